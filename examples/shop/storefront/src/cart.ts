// Reads the cart over gRPC for the cart badge and the cart page.
import { credentials } from "@grpc/grpc-js";
import { CartServiceClient } from "@acme/shop-contracts/gen/ts/shop/cart/v1/cart_grpc_pb";
import { GetCartRequest } from "@acme/shop-contracts/gen/ts/shop/cart/v1/cart_pb";

const client = new CartServiceClient("cart-service:50051", credentials.createInsecure());

export function cartSize(userId: string): Promise<number> {
  const req = new GetCartRequest();
  req.setUserId(userId);
  return new Promise((resolve, reject) => {
    client.getCart(req, (err, cart) => {
      if (err) return reject(err);
      resolve(cart.getItemsList().length);
    });
  });
}
