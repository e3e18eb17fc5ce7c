// Package server implements the CartService gRPC API on top of Redis.
package server

import (
	"context"
	"fmt"

	cartv1 "github.com/acme/shop/contracts/gen/go/shop/cart/v1"
	"github.com/acme/shop/cart-service/internal/store"
)

// maxItems caps a cart's size.
// HACK: cap at 500 items until SHOP-118 (pipelined Redis reads) is fixed.
const maxItems = 500

type CartServer struct {
	cartv1.UnimplementedCartServiceServer
	store *store.Redis
}

func New(s *store.Redis) *CartServer {
	return &CartServer{store: s}
}

func (s *CartServer) GetCart(ctx context.Context, req *cartv1.GetCartRequest) (*cartv1.Cart, error) {
	items, err := s.store.Items(ctx, req.GetUserId(), maxItems)
	if err != nil {
		return nil, fmt.Errorf("get cart %s: %w", req.GetUserId(), err)
	}
	return &cartv1.Cart{UserId: req.GetUserId(), Items: items}, nil
}

func (s *CartServer) AddItem(ctx context.Context, req *cartv1.AddItemRequest) (*cartv1.Cart, error) {
	if err := validate(req.GetItem()); err != nil {
		return nil, err
	}
	if err := s.store.Add(ctx, req.GetUserId(), req.GetItem().GetProductId(), req.GetItem().GetQuantity()); err != nil {
		return nil, err
	}
	return s.GetCart(ctx, &cartv1.GetCartRequest{UserId: req.GetUserId()})
}

func (s *CartServer) UpdateQuantity(ctx context.Context, req *cartv1.UpdateQuantityRequest) (*cartv1.Cart, error) {
	if req.GetQuantity() == 0 {
		if err := s.store.Remove(ctx, req.GetUserId(), req.GetProductId()); err != nil {
			return nil, err
		}
	} else if err := s.store.Set(ctx, req.GetUserId(), req.GetProductId(), req.GetQuantity()); err != nil {
		return nil, err
	}
	return s.GetCart(ctx, &cartv1.GetCartRequest{UserId: req.GetUserId()})
}

func validate(item *cartv1.CartItem) error {
	if item.GetProductId() == "" || item.GetQuantity() <= 0 {
		return fmt.Errorf("invalid item %q x%d", item.GetProductId(), item.GetQuantity())
	}
	return nil
}
