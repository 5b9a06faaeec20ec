/** The account page's 백업 card (issue 15 item 6): the tenant's export file, out and in. */
export const koBackup = {
  'backup.title': '백업: 내보내기와 가져오기',
  'backup.help': '명령어(버전 기록 포함), 일정, 저장소 키, 표와 그 행을 JSON 파일 하나로 내려받습니다. 비밀 값은 이름만 담기고 값은 담기지 않습니다. 봇, 휴대폰, 방, API 키는 담기지 않습니다.',
  'backup.export': '내보내기',
  'backup.importLabel': '가져올 파일 (.json)',
  'backup.importHelp': '명령어, 표, 저장소 키가 하나도 없는 빈 계정에만 가져올 수 있습니다. 일정은 같은 이름의 방이 이 계정의 봇에 있을 때만 만들어집니다.',
  'backup.import': '가져오기',
  'backup.notJson': '파일을 JSON으로 읽을 수 없습니다. 도매까에서 내보낸 파일을 골라 주세요.',
  'backup.summary': '명령어 {commands}개 (버전 {versions}개), 일정 {schedules}개, 저장소 키 {storeKeys}개를 가져왔습니다.',
  'backup.tableRows': '표 {name}: {rows}행',
  'backup.skipped': '방이 없어 건너뛴 일정: {label} ({command}) — {rooms}',
  'backup.secretsToFill': '비밀 값을 다시 입력해 주세요 (값은 파일에 없습니다): {names}',
  'backup.headersToFill': '헤더 값을 다시 입력해 주세요: {command} 명령어의 {header}',
};
