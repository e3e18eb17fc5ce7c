"""Checkout HTTP API: turns a cart into an order."""

from fastapi import FastAPI, HTTPException

from checkout.cart_client import CartClient
from checkout.orders import OrderStore

app = FastAPI(title="checkout")
carts = CartClient("cart-service:50051")
orders = OrderStore()


@app.post("/checkout", status_code=201)
def create_checkout(body: dict) -> dict:
    cart = carts.get_cart(body["userId"])
    if not cart.items:
        raise HTTPException(status_code=409, detail="empty cart")
    order = orders.create(body["userId"], cart, body["paymentToken"])
    for item in cart.items:
        carts.remove(body["userId"], item.product_id)
    return order


@app.get("/orders/{order_id}")
def get_order(order_id: str) -> dict:
    order = orders.get(order_id)
    if order is None:
        raise HTTPException(status_code=404, detail="unknown order")
    return order
