package main

import (
	"log"
	"net"

	cartv1 "github.com/acme/shop/contracts/gen/go/shop/cart/v1"
	"github.com/acme/shop/cart-service/internal/server"
	"github.com/acme/shop/cart-service/internal/store"
	"google.golang.org/grpc"
)

func main() {
	lis, err := net.Listen("tcp", ":50051")
	if err != nil {
		log.Fatal(err)
	}
	srv := grpc.NewServer()
	cartv1.RegisterCartServiceServer(srv, server.New(store.NewRedis("redis:6379")))
	log.Fatal(srv.Serve(lis))
}
