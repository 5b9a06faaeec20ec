"""
📦 주문 조회

채팅방에서 "주문 조회 1001" 처럼 주문번호를 보내면 주문 상태와 배송 정보를 알려 줍니다.
  - 명령어: 주문 조회 (두 단어)
  - 패턴: "주문 조회" 뒤의 한 덩어리를 주문번호로 잡습니다 → params["parameters"][0]

지금은 아래 SAMPLE_ORDERS(예시 주문)에서 찾습니다.
내 쇼핑몰/주문 관리 서버와 연결하려면:
  1) 설정 > 비밀 값에 SHOP_API_URL (예: https://shop.example.com/api) 과
     SHOP_API_TOKEN (서버가 준 토큰) 을 저장하고
  2) 아래 USE_LIVE_API 를 True 로 바꾸세요.
  그리고 ⚙ 설정 > 외부 접속 도메인에 SHOP_API_URL 의 도메인(예: shop.example.com)도 넣어 주세요. (외부 접속은 프리미엄 요금제에서 동작합니다.)
  서버는 GET {SHOP_API_URL}/orders/{주문번호} 에 SAMPLE_ORDERS 의 한 건과
  같은 모양의 JSON 으로 답한다고 가정했습니다. 다르면 fetch_live_order 를 고치세요.

🔒 단톡방에서는 누구나 명령어를 쓸 수 있어요. 이름·주소·전화번호는 가려서 보여 줍니다.
"""
import os
from urllib.parse import quote

USE_LIVE_API = False

# ─────────────────────────────────────────────────────────────
# 📦 예시 데이터 (SAMPLE): 가짜 주문입니다.
# ─────────────────────────────────────────────────────────────
SAMPLE_ORDERS = {
    "1001": {
        "customer": "김민수",
        "ordered_at": "2025-11-24",
        "items": [{"name": "아메리카노 원두 1kg", "qty": 1}, {"name": "드립백 세트", "qty": 2}],
        "total": 42000,
        "status": "배송 중",
        "courier": "CJ대한통운",
        "tracking": "601234567890",
    },
    "1002": {
        "customer": "이지은",
        "ordered_at": "2025-11-25",
        "items": [{"name": "콜드브루 원액 1L", "qty": 3}],
        "total": 36000,
        "status": "상품 준비 중",
        "courier": None,
        "tracking": None,
    },
}

STATUS_EMOJI = {"결제 완료": "💳", "상품 준비 중": "📦", "배송 중": "🚚", "배송 완료": "✅", "취소": "❌"}


def mask_name(name):
    """김민수 → 김*수, 홍길 → 홍* (개인정보 보호)"""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def handle_command(params):
    parameters = params.get("parameters") or [""]
    order_no = parameters[0].strip().lstrip("#")
    if not order_no:
        return "주문번호를 함께 보내 주세요. 예) 주문 조회 1001"

    if USE_LIVE_API:
        base_url = os.environ.get("SHOP_API_URL")
        token = os.environ.get("SHOP_API_TOKEN")
        if not base_url or not token:
            return "⚠️ SHOP_API_URL / SHOP_API_TOKEN 비밀 값이 없어요. 설정 > 비밀 값에서 추가해 주세요."
        order = fetch_live_order(base_url, token, order_no)
    else:
        order = SAMPLE_ORDERS.get(order_no)

    if order is None:
        return f"😥 {order_no}번 주문을 찾지 못했어요. 주문번호를 다시 확인해 주세요."

    emoji = STATUS_EMOJI.get(order["status"], "📦")
    items = ", ".join(f"{item['name']} x{item['qty']}" for item in order["items"])
    lines = [
        f"{emoji} 주문 {order_no} : {order['status']}",
        f"주문자: {mask_name(order['customer'])}님 ({order['ordered_at']})",
        f"상품: {items}",
        f"결제 금액: {order['total']:,}원",
    ]
    if not USE_LIVE_API:
        lines.append("※ 예시 데이터입니다")

    reply = {"text": "\n".join(lines)}
    # 송장번호가 있으면 '배송 조회' 버튼을 붙입니다 (방에는 "배송 조회: 주소" 로 보여요).
    if order.get("tracking"):
        reply["buttons"] = [{
            "label": "배송 조회",
            "url": "https://trace.cjlogistics.com/next/tracking.html?wblNo=" + quote(order["tracking"]),
        }]
    return reply


def fetch_live_order(base_url, token, order_no):
    """내 쇼핑몰 서버에서 주문 한 건을 가져옵니다. 없으면 None."""
    import requests  # 진짜 API를 쓸 때만 불러옵니다

    response = requests.get(
        f"{base_url.rstrip('/')}/orders/{quote(order_no)}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=3,
    )
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return response.json()
