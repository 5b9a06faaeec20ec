"""
⏱️ 카운트다운 타이머

채팅방에서 "타이머 3" 처럼 보내면 3초를 센 뒤 "끝났어요!" 라고 답합니다.
편집기에서 ▶️ 실행을 누르면 '실행 결과' 창에 3, 2, 1 이 한 줄씩 '실시간으로' 찍히는 걸
볼 수 있어요. print(..., flush=True) 가 바로 그 역할을 합니다.
  - 명령어: 타이머
  - 패턴: "타이머" 뒤의 숫자를 초로 잡습니다 → params["parameters"][0] (없으면 빈 글자)

알아 두세요:
  - print 한 내용은 채팅방에 가지 않습니다. 방에는 마지막에 return 한 글자만 갑니다.
  - 무료 요금제는 한 번 실행이 5초까지라서 최대 4초로 막아 두었습니다.
    (더 긴 실행이 필요하면 MAX_SECONDS 를 요금제에 맞게 늘리세요.)
"""
import time

DEFAULT_SECONDS = 3
MAX_SECONDS = 4


def handle_command(params):
    parameters = params.get("parameters") or [""]
    text = parameters[0].strip()
    seconds = int(text) if text.isdigit() else DEFAULT_SECONDS
    seconds = max(1, min(seconds, MAX_SECONDS))  # 1초 ~ MAX_SECONDS 초 사이로

    # flush=True: 모아 두지 말고 지금 바로 내보내라는 뜻 → 실행 결과 창에 바로 보입니다.
    print(f"⏱️ {seconds}초 카운트다운을 시작합니다!", flush=True)
    for left in range(seconds, 0, -1):
        print(f"{left}...", flush=True)
        time.sleep(1)  # 1초 쉬기
    print("🎉 땡!", flush=True)

    return f"⏰ {seconds}초 타이머가 끝났어요!"
