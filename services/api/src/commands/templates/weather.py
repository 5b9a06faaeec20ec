"""
🌤️ 날씨 안내

채팅방에서 "날씨 화도읍" 처럼 보내면 그 지역의 날씨를 알려 줍니다.
  - 명령어: 날씨
  - 패턴: "날씨" 뒤에 오는 글자를 통째로 지역 이름으로 잡습니다.
          잡은 값은 params["parameters"][0] 에 들어옵니다. ("날씨" 만 보내면 빈 글자)

지금은 인터넷에 나가지 않고, 아래 SAMPLE_WEATHER(예시 데이터)로 답합니다.
진짜 날씨로 바꾸려면:
  1) OpenWeatherMap(https://openweathermap.org)에서 무료 API 키를 받고
  2) 설정 > 비밀 값에 OPENWEATHER_API_KEY 라는 이름으로 저장한 뒤
  3) 아래 USE_LIVE_API 를 True 로 바꾸세요.
  그리고 ⚙ 설정 > 외부 접속 도메인에 api.openweathermap.org도 넣어 주세요. (외부 접속은 프리미엄 요금제에서 동작합니다.)
"""
import os  # 비밀 값(API 키)을 os.environ 으로 읽을 때만 씁니다
from datetime import datetime
from zoneinfo import ZoneInfo

# True 로 바꾸면 아래 fetch_live_weather() 로 진짜 날씨를 가져옵니다.
USE_LIVE_API = False

# 지역 이름 없이 "날씨" 만 보냈을 때 보여 줄 지역
DEFAULT_PLACE = "서울"

# ─────────────────────────────────────────────────────────────
# 📦 예시 데이터 (SAMPLE): 실제 날씨가 아닙니다. 연습용으로 마음껏 고치세요.
# ─────────────────────────────────────────────────────────────
SAMPLE_WEATHER = {
    "화도읍": {"sky": "맑음", "temp": 15, "feels_like": 13, "humidity": 45},
    "서울": {"sky": "구름 많음", "temp": 12, "feels_like": 10, "humidity": 60},
    "부산": {"sky": "맑음", "temp": 18, "feels_like": 18, "humidity": 55},
    "제주": {"sky": "비", "temp": 16, "feels_like": 14, "humidity": 85},
}

# 날씨 상태에 어울리는 이모지
SKY_EMOJI = {"맑음": "☀️", "구름 많음": "⛅", "흐림": "☁️", "비": "🌧️", "눈": "❄️"}


def handle_command(params):
    """채팅방 메시지 하나마다 한 번 불립니다. 돌려준 글자가 방에 답장으로 갑니다."""
    # 패턴이 잡은 지역 이름. 비어 있으면 기본 지역을 씁니다.
    parameters = params.get("parameters") or [""]
    place = parameters[0].strip() or DEFAULT_PLACE

    if USE_LIVE_API:
        api_key = os.environ.get("OPENWEATHER_API_KEY")
        if not api_key:
            return "⚠️ OPENWEATHER_API_KEY 비밀 값이 없어요. 설정 > 비밀 값에서 추가해 주세요."
        weather = fetch_live_weather(place, api_key)
    else:
        weather = SAMPLE_WEATHER.get(place)

    if weather is None:
        known = ", ".join(SAMPLE_WEATHER)
        return f"😥 '{place}'의 날씨를 찾지 못했어요.\n예시 데이터에 있는 지역: {known}"

    # print 는 방에 가지 않고, 편집기의 '실행 결과' 창에만 보입니다 (확인용).
    print("날씨 조회:", place, weather)

    # 컨테이너의 시간대도 한국이지만, 분명하게 하려고 Asia/Seoul 을 적었습니다.
    now = datetime.now(ZoneInfo("Asia/Seoul"))
    emoji = SKY_EMOJI.get(weather["sky"], "🌤️")
    lines = [
        f"{emoji} {place} 날씨 ({now.month}월 {now.day}일 {now:%H:%M} 기준)",
        f"하늘: {weather['sky']}",
        f"기온: {weather['temp']}°C (체감 {weather['feels_like']}°C)",
        f"습도: {weather['humidity']}%",
    ]
    if not USE_LIVE_API:
        lines.append("※ 예시 데이터입니다")
    return "\n".join(lines)


def fetch_live_weather(place, api_key):
    """OpenWeatherMap 에서 현재 날씨를 가져옵니다. 못 찾으면 None."""
    import requests  # 진짜 API를 쓸 때만 불러옵니다 (불러오는 데 0.1초쯤 걸려요)

    response = requests.get(
        "https://api.openweathermap.org/data/2.5/weather",
        params={"q": f"{place},KR", "appid": api_key, "units": "metric", "lang": "kr"},
        timeout=3,  # 3초 안에 답이 없으면 포기합니다
    )
    if response.status_code == 404:
        return None  # 그런 지역이 없을 때 (읍·면 이름은 시·군 이름으로 바꿔 보세요)
    response.raise_for_status()
    data = response.json()
    return {
        "sky": data["weather"][0]["description"],
        "temp": round(data["main"]["temp"]),
        "feels_like": round(data["main"]["feels_like"]),
        "humidity": data["main"]["humidity"],
    }
