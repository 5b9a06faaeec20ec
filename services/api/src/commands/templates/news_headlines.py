"""
📰 뉴스 헤드라인

채팅방에서 "뉴스 경제" 처럼 보내면 그 주제의 최신 뉴스 제목을 5개까지 보여 줍니다.
"뉴스" 만 보내면 주요 뉴스를 보여 줍니다.
  - 명령어: 뉴스
  - 패턴: "뉴스" 뒤의 글자 전부를 검색어로 잡습니다 → params["parameters"][0]

지금은 아래 SAMPLE_NEWS(예시 기사, 가짜 제목)로 답합니다.
네이버 뉴스 검색으로 바꾸려면:
  1) 네이버 개발자센터(https://developers.naver.com)에서 '검색' API 애플리케이션을 만들고
  2) 설정 > 비밀 값에 NAVER_CLIENT_ID, NAVER_CLIENT_SECRET 을 저장한 뒤
  3) 아래 USE_LIVE_API 를 True 로 바꾸세요.
  그리고 ⚙ 설정 > 외부 접속 도메인에 openapi.naver.com도 넣어 주세요. (외부 접속은 프리미엄 요금제에서 동작합니다.)
"""
import html
import os
import re
from urllib.parse import quote

USE_LIVE_API = False

# 한 번에 보여 줄 기사 수
MAX_ITEMS = 5

# ─────────────────────────────────────────────────────────────
# 📦 예시 데이터 (SAMPLE): 실제 기사가 아닌 연습용 제목입니다.
# ─────────────────────────────────────────────────────────────
SAMPLE_NEWS = {
    "주요": [
        "[예시] 올겨울 첫 한파 특보… 내일 아침 영하 10도",
        "[예시] 연말 소상공인 지원금 신청 다음 주 시작",
        "[예시] 수도권 지하철 막차 시간 30분 연장",
    ],
    "경제": [
        "[예시] 기준금리 동결… 자영업자 대출 부담 여전",
        "[예시] 원두 수입 가격 석 달째 상승",
        "[예시] 카드 수수료 인하, 내년 1월부터 적용",
        "[예시] 온라인 쇼핑 거래액 역대 최대",
    ],
    "날씨": [
        "[예시] 주말 전국에 비… 일요일 오후부터 그쳐",
        "[예시] 미세먼지 '나쁨'… 외출 시 마스크 챙기세요",
    ],
}


def clean_title(raw):
    """네이버 API 제목의 <b>강조</b> 태그와 &quot; 같은 글자를 정리합니다."""
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


def handle_command(params):
    parameters = params.get("parameters") or [""]
    # 검색어가 없으면 '주요' 뉴스 (네이버 검색에는 '속보' 로 찾습니다)
    keyword = parameters[0].strip() or "주요"

    if USE_LIVE_API:
        client_id = os.environ.get("NAVER_CLIENT_ID")
        client_secret = os.environ.get("NAVER_CLIENT_SECRET")
        if not client_id or not client_secret:
            return "⚠️ NAVER_CLIENT_ID / NAVER_CLIENT_SECRET 비밀 값이 없어요. 설정 > 비밀 값에서 추가해 주세요."
        query = "속보" if keyword == "주요" else keyword
        titles = fetch_live_news(query, client_id, client_secret)
    else:
        titles = SAMPLE_NEWS.get(keyword, [])

    if not titles:
        topics = ", ".join(SAMPLE_NEWS)
        return f"😥 '{keyword}' 뉴스를 찾지 못했어요.\n예시 주제: {topics}"

    lines = [f"📰 {keyword} 뉴스 헤드라인"]
    for number, title in enumerate(titles[:MAX_ITEMS], start=1):
        lines.append(f"{number}. {title}")
    if not USE_LIVE_API:
        lines.append("※ 예시 기사입니다")

    # '더 보기' 버튼: 네이버 뉴스 검색 결과로 연결합니다.
    more_url = "https://search.naver.com/search.naver?where=news&query=" + quote(keyword)
    return {"text": "\n".join(lines), "buttons": [{"label": "뉴스 더 보기", "url": more_url}]}


def fetch_live_news(keyword, client_id, client_secret):
    """네이버 뉴스 검색 API: 최신순 기사 제목 목록."""
    import requests  # 진짜 API를 쓸 때만 불러옵니다

    response = requests.get(
        "https://openapi.naver.com/v1/search/news.json",
        params={"query": keyword, "display": MAX_ITEMS, "sort": "date"},
        headers={"X-Naver-Client-Id": client_id, "X-Naver-Client-Secret": client_secret},
        timeout=3,
    )
    response.raise_for_status()
    return [clean_title(item["title"]) for item in response.json().get("items", [])]
