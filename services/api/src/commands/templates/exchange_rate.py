"""
💱 환율 조회

채팅방에서 "환율 달러 100" 처럼 보내면 원화로 얼마인지 알려 줍니다.
  - 명령어: 환율
  - 패턴: 첫 번째 괄호 = 통화 (달러, 엔, 유로, USD ...),
          두 번째 괄호 = 금액 (없어도 됩니다)
          → params["parameters"] 가 ["달러", "100"] 처럼 들어옵니다.

지금은 아래 SAMPLE_RATES(예시 환율)로 계산합니다.
진짜 환율로 바꾸려면:
  1) 한국수출입은행 Open API(https://www.koreaexim.go.kr)에서 인증키를 받고
  2) 설정 > 비밀 값에 KOREAEXIM_API_KEY 로 저장한 뒤
  3) 아래 USE_LIVE_API 를 True 로 바꾸세요.
  그리고 ⚙ 설정 > 외부 접속 도메인에 oapi.koreaexim.go.kr도 넣어 주세요. (외부 접속은 프리미엄 요금제에서 동작합니다.)
"""
import os  # 비밀 값(API 키)을 os.environ 으로 읽을 때만 씁니다
from decimal import Decimal, InvalidOperation  # 돈 계산은 소수점 오차가 없는 Decimal 로!

USE_LIVE_API = False

# 통화를 말하지 않았을 때
DEFAULT_CURRENCY = "USD"

# ─────────────────────────────────────────────────────────────
# 📦 예시 데이터 (SAMPLE): 실제 환율이 아닙니다.
#    rate = unit(단위)만큼의 외화가 몇 원인지. 엔화는 100엔 기준으로 고시됩니다.
# ─────────────────────────────────────────────────────────────
SAMPLE_RATES = {
    "USD": {"name": "미국 달러", "unit": 1, "rate": Decimal("1385.50")},
    "JPY": {"name": "일본 엔", "unit": 100, "rate": Decimal("912.30")},
    "EUR": {"name": "유로", "unit": 1, "rate": Decimal("1502.20")},
    "CNY": {"name": "중국 위안", "unit": 1, "rate": Decimal("190.40")},
    "GBP": {"name": "영국 파운드", "unit": 1, "rate": Decimal("1755.80")},
}

# 손님들이 흔히 쓰는 말 → 통화 코드
ALIASES = {
    "달러": "USD", "불": "USD", "미국": "USD",
    "엔": "JPY", "엔화": "JPY", "일본": "JPY",
    "유로": "EUR", "유럽": "EUR",
    "위안": "CNY", "위안화": "CNY", "중국": "CNY",
    "파운드": "GBP", "영국": "GBP",
}


def handle_command(params):
    # 패턴의 괄호 두 개 → 값 두 개. 없는 값은 빈 글자("")로 옵니다.
    words = [p.strip() for p in (params.get("parameters") or []) if p.strip()]

    # "환율 100" 처럼 금액만 보냈으면 기본 통화로 계산합니다.
    currency_word = DEFAULT_CURRENCY
    amount_word = ""
    for word in words:
        if word.replace(",", "").replace(".", "").isdigit():
            amount_word = word
        else:
            currency_word = word

    code = ALIASES.get(currency_word, currency_word.upper())

    if USE_LIVE_API:
        api_key = os.environ.get("KOREAEXIM_API_KEY")
        if not api_key:
            return "⚠️ KOREAEXIM_API_KEY 비밀 값이 없어요. 설정 > 비밀 값에서 추가해 주세요."
        rates = fetch_live_rates(api_key)
    else:
        rates = SAMPLE_RATES

    info = rates.get(code)
    if info is None:
        names = ", ".join(f"{c}({r['name']})" for c, r in rates.items())
        return f"😥 '{currency_word}' 환율을 찾지 못했어요.\n쓸 수 있는 통화: {names}"

    per_one = info["rate"] / info["unit"]  # 외화 1단위가 몇 원인지
    lines = [
        f"💱 {info['name']}({code}) 환율",
        f"{info['unit']} {code} = {info['rate']:,.2f}원",
    ]
    if amount_word:
        try:
            amount = Decimal(amount_word.replace(",", ""))
        except InvalidOperation:
            return "금액을 숫자로 적어 주세요. 예) 환율 달러 100"
        lines.append(f"{amount:,} {code} = {amount * per_one:,.0f}원")
    if not USE_LIVE_API:
        lines.append("※ 예시 환율입니다")
    return "\n".join(lines)


def fetch_live_rates(api_key):
    """한국수출입은행 현재환율 API → SAMPLE_RATES 와 같은 모양의 dict."""
    import requests  # 진짜 API를 쓸 때만 불러옵니다

    response = requests.get(
        "https://oapi.koreaexim.go.kr/site/program/financial/exchangeJSON",
        params={"authkey": api_key, "data": "AP01"},
        timeout=3,
    )
    response.raise_for_status()
    rates = {}
    # 주말·공휴일이나 오전 11시 전에는 빈 목록이 올 수 있어요.
    for row in response.json():
        # cur_unit 예: "USD", "JPY(100)"  /  deal_bas_r 예: "1,385.5"
        unit_text = row["cur_unit"]
        code = unit_text.split("(")[0]
        unit = int(unit_text.split("(")[1].rstrip(")")) if "(" in unit_text else 1
        rate = Decimal(row["deal_bas_r"].replace(",", ""))
        rates[code] = {"name": row["cur_nm"], "unit": unit, "rate": rate}
    return rates
