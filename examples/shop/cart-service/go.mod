module github.com/acme/shop/cart-service

go 1.22

require (
	github.com/acme/shop/contracts v0.4.0
	google.golang.org/grpc v1.64.0
)
