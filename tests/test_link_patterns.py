"""Link patterns met on real systems, end to end through the `lore` command on small git repositories:
GraphQL operation documents whose header declares variables (`query Q($id: ID!) {`, over several lines,
with defaults and directives) against a schema split over several `.graphqls` files; Ruby gRPC stubs made
in one file and passed to a class of another (`Lookup.call(stub)`, `Poller.new(client: stub)`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.gitrepo import GitRepo

SCHEMA = """schema {
  query: Query
  mutation: Mutation
}

type Query {
  vet(id: Int!): Vet
  owners(first: Int, after: String, filter: OwnerFilter): OwnerConnection!
}

type Vet { id: Int! name: String! visits: [Visit!]! }
type Visit { date: Date! description: String! }
type OwnerConnection { edges: [Owner!]! }
type Owner { id: Int! lastName: String! }
input OwnerFilter { lastName: String }
scalar Date
"""

MUTATIONS = """type Mutation {
  addVisit(input: AddVisitInput!): AddVisitPayload!
}

type AddVisitPayload { visit: Visit! }
input AddVisitInput { vetId: Int! description: String! }
"""

RESOLVERS = """const resolvers = {
  Query: {
    vet: (_, { id }) => null,
  },
  Mutation: {
    addVisit: (_, { input }) => null,
  },
};
module.exports = { resolvers };
"""

VET_QUERY = """query VetAndVisits($vetId: Int!) {
  vet(id: $vetId) {
    name
    visits {
      date
    }
  }
}
"""

FIND_OWNERS = """query FindOwners(
  $after: String
  $lastName: String = "Davis"
) @cached(ttl: 60) {
  owners(first: 5, after: $after, filter: { lastName: $lastName }) {
    edges {
      lastName
    }
  }
}
"""

ADD_VISIT = """mutation AddVisit($input: AddVisitInput!) {
  addVisit(input: $input) {
    visit {
      description
    }
  }
}
"""

# Another API's operation with variables: validates against nothing here, links nothing.
OTHER_API = """query Repo($owner: String!) {
  repository(owner: $owner) {
    stargazerCount
  }
}
"""

PROTO = """syntax = "proto3";
package hipstershop;

service CartService {
  rpc GetCart(GetCartRequest) returns (Cart) {}
  rpc EmptyCart(GetCartRequest) returns (Cart) {}
}

service CurrencyService {
  rpc GetCart(GetCartRequest) returns (Cart) {}
}

message GetCartRequest { string user_id = 1; }
message Cart { string user_id = 1; }
"""

CHECKOUT_RB = """require 'shop/lookup'
require 'shop/poller'

module Shop
  class Checkout
    class << self
      def cart(user_id)
        Lookup.call(stub, user_id)
      end

      def poll(user_id)
        Poller.new(user_id, client: stub).run
      end

      def either(user_id, fast)
        Either.call(fast ? stub : currency, user_id)
        Mixed.call(stub)
        Mixed.call(currency)
      end

      private

      def stub
        @stub ||= Hipstershop::CartService::Stub.new('cart:7070', :this_channel_is_insecure)
      end

      def currency
        @currency ||= Hipstershop::CurrencyService::Stub.new('currency:7000', :this_channel_is_insecure)
      end
    end
  end
end
"""

LOOKUP_RB = """module Shop
  class Checkout
    class Lookup
      def self.call(stub, user_id)
        resp = stub.get_cart(Hipstershop::GetCartRequest.new(user_id: user_id))
        resp.user_id
      end
    end
  end
end
"""

POLLER_RB = """module Shop
  class Checkout
    class Poller
      def initialize(user_id, client:)
        @user_id = user_id
        @client = client
      end

      def run
        @client.empty_cart(Hipstershop::GetCartRequest.new(user_id: @user_id))
      end
    end
  end
end
"""

# Given a CartService stub by one caller and a CurrencyService stub by another: which one this call
# reaches is not known, so it links neither.
MIXED_RB = """module Shop
  class Checkout
    class Mixed
      def self.call(stub)
        stub.get_cart(Hipstershop::GetCartRequest.new(user_id: 'x'))
      end
    end
  end
end
"""

# A class of the same qualified name in another repository: a stub is never passed across programs.
ELSEWHERE_RB = """module Shop
  class Checkout
    class Lookup
      def self.call(stub, user_id)
        stub.get_cart(user_id)
      end
    end
  end
end
"""


def lore(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "lore", *args], capture_output=True, text=True, check=True,
                          env={**os.environ, "LORE_CACHE": str(cache)})


def links_of(ws: Path, cache: Path) -> set[tuple[str, str, str, str, int]]:
    doc = json.loads(lore("graph", str(ws), "--json", cache=cache).stdout)
    return {(lk["entity"], lk["role"], lk["repo"], lk["path"], lk["range"]["start_line"] + 1) for lk in doc["links"]}


def test_operations_with_variables_link_every_selected_field(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    GitRepo(ws / "clinic").commit("graph", {
        "backend/graphql/clinic.graphqls": SCHEMA, "backend/graphql/mutations.graphqls": MUTATIONS,
        "backend/resolvers.js": RESOLVERS, "frontend/src/vets/VetAndVisits.graphql": VET_QUERY,
        "frontend/src/owners/FindOwners.graphql": FIND_OWNERS, "frontend/src/visits/AddVisit.graphql": ADD_VISIT,
        "frontend/src/github/Repo.graphql": OTHER_API})
    (ws / "lore.toml").write_text('[[repo]]\npath = "clinic"\n')
    links = links_of(ws, tmp_path / "c")
    consumed = {(e, p.rsplit("/", 1)[1], line) for e, role, _r, p, line in links if role == "consumes"}
    assert consumed == {
        ("graphql:Query.vet", "VetAndVisits.graphql", 2), ("graphql:Vet.name", "VetAndVisits.graphql", 3),
        ("graphql:Vet.visits", "VetAndVisits.graphql", 4), ("graphql:Visit.date", "VetAndVisits.graphql", 5),
        ("graphql:Query.owners", "FindOwners.graphql", 5), ("graphql:OwnerConnection.edges", "FindOwners.graphql", 6),
        ("graphql:Owner.lastName", "FindOwners.graphql", 7),
        ("graphql:Mutation.addVisit", "AddVisit.graphql", 2), ("graphql:AddVisitPayload.visit", "AddVisit.graphql", 3),
        ("graphql:Visit.description", "AddVisit.graphql", 4)}
    out = lore("context", f"{ws}/clinic/frontend/src/vets/VetAndVisits.graphql:2:3", cache=tmp_path / "c").stdout
    assert "graphql:Query.vet" in out and "backend/resolvers.js" in out
    out = lore("context", f"{ws}/clinic/frontend/src/visits/AddVisit.graphql:2:3", cache=tmp_path / "c").stdout
    assert "graphql:Mutation.addVisit" in out and "backend/resolvers.js" in out


def test_ruby_stub_passed_to_a_class_of_another_file(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    GitRepo(ws / "shop").commit("shop", {
        "protos/cart.proto": PROTO, "lib/shop/checkout.rb": CHECKOUT_RB, "lib/shop/lookup.rb": LOOKUP_RB,
        "lib/shop/poller.rb": POLLER_RB, "lib/shop/mixed.rb": MIXED_RB})
    GitRepo(ws / "other").commit("other", {"lib/shop/lookup.rb": ELSEWHERE_RB})
    (ws / "lore.toml").write_text('[[repo]]\npath = "shop"\n[[repo]]\npath = "other"\n')
    links = links_of(ws, tmp_path / "c")
    calls = {(e, r, p, line) for e, role, r, p, line in links if role == "consumes" and p != "lib/shop/checkout.rb"}
    assert calls == {("proto:hipstershop.CartService.GetCart", "shop", "lib/shop/lookup.rb", 5),
                     ("proto:hipstershop.CartService.EmptyCart", "shop", "lib/shop/poller.rb", 10)}
    out = lore("context", f"{ws}/shop/lib/shop/lookup.rb:5:21", cache=tmp_path / "c").stdout
    assert "proto:hipstershop.CartService.GetCart" in out and "lib/shop/checkout.rb:8" in out


def test_an_edited_file_keeps_the_stub_passed_from_another(tmp_path: Path) -> None:
    """An unsaved buffer is re-linked alone (`Snapshot.with_file`): the stub passed from the unchanged
    file still resolves the calls on the parameter, at their new lines."""
    from indexers.engine import Engine
    from indexers.extract import extract_file
    from indexers.store import Store
    from indexers.workspace import discover

    ws = tmp_path / "ws"
    GitRepo(ws / "shop").commit("shop", {"protos/cart.proto": PROTO, "lib/shop/checkout.rb": CHECKOUT_RB,
                                         "lib/shop/lookup.rb": LOOKUP_RB})
    (ws / "lore.toml").write_text('[[repo]]\npath = "shop"\n')
    snap, _report = Engine(discover(ws), Store(tmp_path / "cache"), jobs=1).refresh()
    edited = LOOKUP_RB.replace("      def self.call(stub, user_id)\n",
                               "      # looks the cart up\n      def self.call(stub, user_id)\n")
    after = snap.with_file(extract_file("shop", "lib/shop/lookup.rb", edited.encode()))
    got = {(lk.entity, lk.range.start_line + 1) for lk in after.links_by_file.get(("shop", "lib/shop/lookup.rb"), [])}
    assert got == {("proto:hipstershop.CartService.GetCart", 6)}
