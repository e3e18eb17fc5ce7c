import express from "express";
import { checkout, getOrder } from "./api";
import { cartSize } from "./cart";

const app = express();
app.use(express.json());

app.get("/api/cart-size/:userId", async (req, res) => {
  res.json({ size: await cartSize(req.params.userId) });
});

app.post("/api/checkout", async (req, res) => {
  res.status(201).json(await checkout(req.body.userId, req.body.paymentToken));
});

// TODO(SHOP-77): poll order status once the checkout API exposes webhooks.
app.get("/api/orders/:id", async (req, res) => {
  res.json(await getOrder(req.params.id));
});

app.listen(3000);
