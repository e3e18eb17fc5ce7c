// HTTP calls from the storefront to the checkout API.
const BASE = process.env.CHECKOUT_URL ?? "http://checkout-service:8080";

export interface Order {
  id: string;
  status: "pending" | "paid" | "shipped";
  totalCents: number;
}

export async function checkout(userId: string, paymentToken: string): Promise<Order> {
  const res = await fetch(`${BASE}/checkout`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ userId, paymentToken }),
  });
  if (!res.ok) throw new Error(`checkout failed: ${res.status}`);
  return (await res.json()) as Order;
}

export async function getOrder(orderId: string): Promise<Order> {
  const res = await fetch(`${BASE}/orders/${orderId}`);
  if (!res.ok) throw new Error(`order ${orderId}: ${res.status}`);
  return (await res.json()) as Order;
}
