"""In-memory order store (the real one lives in Postgres)."""

import uuid


class OrderStore:
    def __init__(self) -> None:
        self._orders: dict[str, dict] = {}

    def create(self, user_id: str, cart, payment_token: str) -> dict:
        total = sum(item.quantity * 100 for item in cart.items)
        order = {"id": str(uuid.uuid4()), "status": "pending", "totalCents": total, "userId": user_id}
        self._orders[order["id"]] = order
        return order

    def get(self, order_id: str) -> dict | None:
        return self._orders.get(order_id)
