"""Client of the cart service (gRPC)."""

import time

import grpc

from shop.cart.v1 import cart_pb2, cart_pb2_grpc


class CartClient:
    def __init__(self, target: str):
        self._channel = grpc.insecure_channel(target)
        self._stub = cart_pb2_grpc.CartServiceStub(self._channel)

    def get_cart(self, user_id: str) -> cart_pb2.Cart:
        # Hotfix INC-2031: the cart service drops connections during deploys; retry with backoff.
        for attempt in range(3):
            try:
                return self._stub.GetCart(cart_pb2.GetCartRequest(user_id=user_id), timeout=2.0)
            except grpc.RpcError as err:
                if err.code() != grpc.StatusCode.UNAVAILABLE or attempt == 2:
                    raise
                time.sleep(0.2 * 2**attempt)
        raise RuntimeError("unreachable")

    def remove(self, user_id: str, product_id: str) -> None:
        self._stub.RemoveItem(cart_pb2.RemoveItemRequest(user_id=user_id, product_id=product_id))
