/** The bot page's "카카오톡 채널" section, and where a logged call came from (spread into `ko`). */
export const koKakao = {
  'kakao.title': '💬 카카오톡 채널',
  'kakao.intro':
    '카카오톡 채널(비즈니스 채널)의 챗봇이 이 봇의 명령어로 답하게 합니다. 폰이 없어도 됩니다. 카카오 i 오픈빌더(챗봇 관리자센터)에 아래 스킬 URL을 등록하세요.',
  'kakao.skillUrl': '스킬 URL',
  'kakao.skillKey': '스킬 키',
  'kakao.keyHelp': '이 키를 아는 사람은 누구나 이 봇의 명령어를 부를 수 있습니다. 새어 나갔다면 새 키를 만드세요.',
  'kakao.rotate': '🔄 새 스킬 키 만들기',
  'kakao.rotateConfirm': '새 키를 만들면 지금 스킬 URL은 바로 작동을 멈춥니다. 오픈빌더의 스킬 URL도 새 URL로 바꿔야 합니다. 계속할까요?',
  'kakao.rotated': '새 스킬 키를 만들었습니다. 오픈빌더의 스킬 URL을 새 URL로 바꿔 주세요.',
  'kakao.fallback': '명령어가 아닌 말에 대한 답',
  'kakao.fallbackHelp': '비워 두면 기본 문장으로 답합니다: "{text}"',
  'kakao.fallbackSave': '💾 저장',
  'kakao.fallbackSaved': '저장했습니다.',
  'kakao.steps': '오픈빌더에서 할 일',
  'kakao.step1': '카카오톡 채널 관리자센터에서 채널을 만들고, 챗봇 관리자센터(카카오 i 오픈빌더)에서 챗봇을 만들어 그 채널에 연결합니다.',
  'kakao.step2': '왼쪽 메뉴 "스킬" → "생성": 이름(예: 도매까 명령어)을 적고, URL 칸에 위의 스킬 URL을 붙여 넣은 뒤 저장합니다.',
  'kakao.step3': '"시나리오" → "폴백 블록"(또는 명령어를 받을 블록)을 열고, 파라미터 설정에서 방금 만든 스킬을 고릅니다.',
  'kakao.step4': '같은 블록의 "봇 응답"에서 "스킬데이터 사용"을 고르고 저장합니다.',
  'kakao.step5':
    '(선택) 5초 넘게 걸리는 명령어가 있다면: 설정 → AI 챗봇 관리에서 콜백 기능을 신청하고, 블록의 "Callback 설정"을 켭니다. 그러면 "잠시만요, 답을 준비하고 있어요."라고 먼저 답하고, 결과는 1분 안에 이어서 보냅니다.',
  'kakao.step6': '"배포"를 누르면 끝입니다. 채널에서 "날씨 화도읍"처럼 보내 보세요.',
  'kakao.notes':
    '채널은 아래 방 목록에 "kakao:"로 시작하는 방 하나로 나타납니다 (방 수동 승인을 켰다면 그 방을 승인해야 답합니다). 채널의 호출도 로그와 실시간 보기에 "카카오톡 채널"로 표시되고, 요금제의 하루 실행 횟수에 포함됩니다.',
  'source.kakao-skill': '💬 카카오톡 채널',
  'source.http': '🌐 HTTP',
  'source.ingress': '🖥️ 봇 서버',
  'source.schedule': '⏰ 예약',
  'source.send': '📤 보낸 메시지',
  'source.title': '들어온 곳',
} as const;
