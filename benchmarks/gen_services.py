"""Service code that provides and consumes the contracts: gRPC servers and clients, HTTP routes and
HTTP calls, in the idioms each language's real code uses (Go `Unimplemented<Svc>Server` and
`pb.New<Svc>Client`, Python `<Svc>Servicer`/`<Svc>Stub`, FastAPI/Express/gin routes, TS `fetch`, Java
`<Svc>Grpc.<Svc>ImplBase`/`newBlockingStub`, C# `<Svc>.<Svc>Base`/`<Svc>Client`), plus the files that
make a folder a service (catalog-info.yaml, Dockerfile, build manifest, CODEOWNERS).

Each code file comes with the usages it contains (identifier, kind, target contract); the generator
turns them into positions so the hover benchmark can aim at real contract usages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from benchmarks.gen_contracts import Svc, plural
from benchmarks.gen_filler import pascal, snake


@dataclass
class CodeFile:
    path: str
    header: str
    footer: str = ""
    usages: list[tuple[str, str, str, str]] = field(default_factory=list)  # (line needle, ident, kind, target)


def _rpc_id(s: Svc, rpc: str = "") -> str:
    return f"proto:{s.package}.{s.grpc_service}" + (f".{rpc}" if rpc else "")


def go_files(svc: Svc, deps: list[Svc], http_deps: list[Svc]) -> list[CodeFile]:
    s = svc
    imp = f"github.com/acme/contracts/gen/go/acme/{s.noun}/v1"
    methods = "".join(
        f"\n// {rpc} implements {s.grpc_service}.\nfunc (s *Server) {rpc}(ctx context.Context, req *pb.{rpc}Request) (*pb.{rpc}Response, error) {{\n"
        f"\tif req.Get{pascal(*s.parts)}Id() == \"\" {{\n\t\treturn nil, status.Error(codes.InvalidArgument, \"missing id\")\n\t}}\n"
        f"\titems, err := s.store.Find(ctx, req.Get{pascal(*s.parts)}Id())\n\tif err != nil {{\n"
        f"\t\treturn nil, status.Errorf(codes.Internal, \"{rpc}: %v\", err)\n\t}}\n"
        f"\treturn &pb.{rpc}Response{{Items: items}}, nil\n}}\n" for rpc in s.rpc_names())
    server = CodeFile(
        "internal/server/grpc.go",
        f"// Package server serves the {s.grpc_service} gRPC API.\npackage server\n\nimport (\n\t\"context\"\n\n"
        f"\tpb \"{imp}\"\n\t\"google.golang.org/grpc/codes\"\n\t\"google.golang.org/grpc/status\"\n)\n\n"
        f"// Store is where {plural(s.name)} live.\ntype Store interface {{\n"
        f"\tFind(ctx context.Context, id string) ([]*pb.{s.type}, error)\n}}\n\n"
        f"// Server implements {s.grpc_service}.\ntype Server struct {{\n\tpb.Unimplemented{s.grpc_service}Server\n"
        f"\tstore Store\n}}\n{methods}",
        usages=[(f"pb.Unimplemented{s.grpc_service}Server", f"Unimplemented{s.grpc_service}Server", "grpc_server", _rpc_id(s))]
        + [(f"func (s *Server) {rpc}(", rpc, "grpc_method", _rpc_id(s, rpc)) for rpc in s.rpc_names()])
    files = [server]
    for d in deps:
        rpc = d.rpc_names()[0]
        files.append(CodeFile(
            f"internal/clients/{snake(*d.parts)}.go",
            f"package clients\n\nimport (\n\t\"context\"\n\n\t\"google.golang.org/grpc\"\n\n"
            f"\tpb \"github.com/acme/contracts/gen/go/acme/{d.noun}/v1\"\n)\n\n"
            f"// {d.type}Client wraps the {d.grpc_service} client.\ntype {d.type}Client struct {{\n\tclient pb.{d.grpc_service}Client\n}}\n\n"
            f"// New{d.type}Client dials nothing: conn is shared.\nfunc New{d.type}Client(conn *grpc.ClientConn) *{d.type}Client {{\n"
            f"\treturn &{d.type}Client{{client: pb.New{d.grpc_service}Client(conn)}}\n}}\n\n"
            f"// Fetch returns one {d.name}.\nfunc (c *{d.type}Client) Fetch(ctx context.Context, id string) (*pb.{rpc}Response, error) {{\n"
            f"\treturn c.client.{rpc}(ctx, &pb.{rpc}Request{{{pascal(*d.parts)}Id: id}})\n}}\n",
            usages=[(f"pb.New{d.grpc_service}Client(conn)", f"New{d.grpc_service}Client", "grpc_client", _rpc_id(d)),
                    (f"c.client.{rpc}(ctx", rpc, "grpc_call", _rpc_id(d, rpc))]))
    if s.http:
        files.append(CodeFile(
            "internal/http/routes.go",
            f"package http\n\nimport (\n\tnethttp \"net/http\"\n\n\t\"github.com/gin-gonic/gin\"\n)\n\n"
            f"// Register mounts the {s.name} HTTP API.\nfunc Register(r *gin.Engine) {{\n"
            f"\tr.GET(\"{s.route}/:id\", get{s.type})\n\tr.GET(\"{s.route}\", list{plural(s.type)})\n"
            f"\tr.POST(\"{s.route}\", create{s.type})\n}}\n\n"
            f"func get{s.type}(c *gin.Context) {{\n\tc.JSON(nethttp.StatusOK, gin.H{{\"id\": c.Param(\"id\")}})\n}}\n\n"
            f"func list{plural(s.type)}(c *gin.Context) {{\n\tc.JSON(nethttp.StatusOK, []gin.H{{}})\n}}\n\n"
            f"func create{s.type}(c *gin.Context) {{\n\tc.Status(nethttp.StatusCreated)\n}}\n",
            usages=[(f"r.GET(\"{s.route}/:id\"", f"{s.route}/:id", "route", f"openapi:{s.name}:GET {s.route}/{{id}}")]))
    return files


def python_files(svc: Svc, deps: list[Svc], http_deps: list[Svc]) -> list[CodeFile]:
    s = svc
    mod, pkg = f"{s.noun}_pb2", f"{s.noun}_pb2_grpc"
    methods = "".join(
        f"\n    def {rpc}(self, request, context):\n        \"\"\"{rpc} for one {s.name}.\"\"\"\n"
        f"        items = self._store.find(request.{snake(*s.parts)}_id)\n        if not items:\n"
        f"            context.abort(grpc.StatusCode.NOT_FOUND, \"no such {s.name}\")\n"
        f"        return {mod}.{rpc}Response(items=items)\n" for rpc in s.rpc_names())
    root = f"src/{snake(*s.parts)}_service"
    files = [CodeFile(
        f"{root}/grpc_server.py",
        f"\"\"\"gRPC server for {s.grpc_service}.\"\"\"\n\nfrom concurrent import futures\n\nimport grpc\n"
        f"from acme.{s.noun}.v1 import {mod}, {pkg}\n\n\nclass {s.grpc_service}({pkg}.{s.grpc_service}Servicer):\n"
        f"    def __init__(self, store):\n        self._store = store\n{methods}\n\n"
        f"def serve(store, port: int = 50051) -> grpc.Server:\n    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))\n"
        f"    {pkg}.add_{s.grpc_service}Servicer_to_server({s.grpc_service}(store), server)\n"
        f"    server.add_insecure_port(f\"[::]:{{port}}\")\n    server.start()\n    return server\n",
        usages=[(f"({pkg}.{s.grpc_service}Servicer)", f"{s.grpc_service}Servicer", "grpc_server", _rpc_id(s))]
        + [(f"    def {rpc}(self", rpc, "grpc_method", _rpc_id(s, rpc)) for rpc in s.rpc_names()])]
    for d in deps:
        rpc = d.rpc_names()[0]
        files.append(CodeFile(
            f"{root}/clients/{snake(*d.parts)}_client.py",
            f"\"\"\"Client for {d.grpc_service}.\"\"\"\n\nimport grpc\nfrom acme.{d.noun}.v1 import {d.noun}_pb2, {d.noun}_pb2_grpc\n\n\n"
            f"class {d.type}Client:\n    def __init__(self, channel: grpc.Channel):\n"
            f"        self._stub = {d.noun}_pb2_grpc.{d.grpc_service}Stub(channel)\n\n"
            f"    def fetch(self, ident: str):\n        return self._stub.{rpc}({d.noun}_pb2.{rpc}Request({snake(*d.parts)}_id=ident), timeout=2.0)\n",
            usages=[(f"_pb2_grpc.{d.grpc_service}Stub(channel)", f"{d.grpc_service}Stub", "grpc_client", _rpc_id(d)),
                    (f"self._stub.{rpc}(", rpc, "grpc_call", _rpc_id(d, rpc))]))
    if s.http:
        files.append(CodeFile(
            f"{root}/api.py",
            f"\"\"\"HTTP API of the {s.name} service.\"\"\"\n\nfrom fastapi import FastAPI, HTTPException\n\napp = FastAPI(title=\"{s.type}\")\n\n\n"
            f"@app.get(\"{s.route}/{{item_id}}\")\nasync def get_{snake(*s.parts)}(item_id: str) -> dict:\n"
            f"    if not item_id:\n        raise HTTPException(status_code=404)\n    return {{\"id\": item_id}}\n\n\n"
            f"@app.get(\"{s.route}\")\nasync def list_{plural(snake(*s.parts))}() -> list[dict]:\n    return []\n\n\n"
            f"@app.post(\"{s.route}\", status_code=201)\nasync def create_{snake(*s.parts)}(body: dict) -> dict:\n    return body\n",
            usages=[(f"@app.get(\"{s.route}/{{item_id}}\")", f"{s.route}/{{item_id}}", "route", f"openapi:{s.name}:GET {s.route}/{{id}}")]))
    for d in http_deps:
        files.append(CodeFile(
            f"{root}/clients/{snake(*d.parts)}_http.py",
            f"\"\"\"HTTP client for the {d.name} API.\"\"\"\n\nimport httpx\n\nBASE = \"http://{d.name}\"\n\n\n"
            f"def get_{snake(*d.parts)}(item_id: str) -> dict:\n    resp = httpx.get(f\"{{BASE}}{d.route}/{{item_id}}\", timeout=2.0)\n"
            f"    resp.raise_for_status()\n    return resp.json()\n",
            usages=[(f"httpx.get(f\"{{BASE}}{d.route}/", f"{d.route}/", "http_call", f"openapi:{d.name}:GET {d.route}/{{id}}")]))
    return files


def typescript_files(svc: Svc, deps: list[Svc], http_deps: list[Svc]) -> list[CodeFile]:
    s = svc
    files: list[CodeFile] = []
    if s.http:
        files.append(CodeFile(
            "src/routes.ts",
            f"import express, {{ Request, Response }} from 'express';\n\nexport const router = express.Router();\n\n"
            f"router.get('{s.route}/:id', async (req: Request, res: Response) => {{\n  res.json({{ id: req.params.id }});\n}});\n\n"
            f"router.get('{s.route}', async (_req: Request, res: Response) => {{\n  res.json([]);\n}});\n\n"
            f"router.post('{s.route}', async (req: Request, res: Response) => {{\n  res.status(201).json(req.body);\n}});\n",
            usages=[(f"router.get('{s.route}/:id'", f"{s.route}/:id", "route", f"openapi:{s.name}:GET {s.route}/{{id}}")]))
    for d in deps:
        rpc = d.rpc_names()[0]
        files.append(CodeFile(
            f"src/clients/{d.name}.ts",
            f"import {{ credentials }} from '@grpc/grpc-js';\nimport {{ {d.grpc_service}Client }} from '@acme/contracts/{d.noun}/v1/{snake(*d.parts)}_grpc_pb';\n"
            f"import {{ {rpc}Request }} from '@acme/contracts/{d.noun}/v1/{snake(*d.parts)}_pb';\n\n"
            f"const client = new {d.grpc_service}Client('{d.name}:50051', credentials.createInsecure());\n\n"
            f"export function fetch{d.type}(id: string): Promise<unknown> {{\n  const req = new {rpc}Request();\n"
            f"  req.set{pascal(*d.parts)}Id(id);\n  return new Promise((resolve, reject) => {{\n"
            f"    client.{rpc[:1].lower() + rpc[1:]}(req, (err, resp) => (err ? reject(err) : resolve(resp)));\n  }});\n}}\n",
            usages=[(f"new {d.grpc_service}Client(", f"{d.grpc_service}Client", "grpc_client", _rpc_id(d))]))
    for d in http_deps:
        files.append(CodeFile(
            f"src/api/{d.name}.ts",
            f"export interface {d.type} {{\n  id: string;\n  name: string;\n}}\n\n"
            f"export async function get{d.type}(id: string): Promise<{d.type}> {{\n"
            f"  const res = await fetch(`{d.route}/${{id}}`);\n  if (!res.ok) {{\n    throw new Error(`{d.name} ${{id}}: ${{res.status}}`);\n  }}\n"
            f"  return (await res.json()) as {d.type};\n}}\n",
            usages=[(f"fetch(`{d.route}/", f"{d.route}/", "http_call", f"openapi:{d.name}:GET {d.route}/{{id}}")]))
    return files


def java_files(svc: Svc, deps: list[Svc], http_deps: list[Svc]) -> list[CodeFile]:
    s = svc
    base = f"src/main/java/com/acme/{s.noun}"
    methods = "".join(
        f"\n    @Override\n    public void {rpc[:1].lower() + rpc[1:]}({rpc}Request request, StreamObserver<{rpc}Response> responseObserver) {{\n"
        f"        responseObserver.onNext({rpc}Response.newBuilder().build());\n        responseObserver.onCompleted();\n    }}\n"
        for rpc in s.rpc_names())
    files = [CodeFile(
        f"{base}/grpc/{s.grpc_service}Impl.java",
        f"package com.acme.{s.noun}.grpc;\n\nimport com.acme.{s.noun}.v1.*;\nimport io.grpc.stub.StreamObserver;\n\n"
        f"public class {s.grpc_service}Impl extends {s.grpc_service}Grpc.{s.grpc_service}ImplBase {{\n{methods}",
        "}\n",
        usages=[(f"extends {s.grpc_service}Grpc.{s.grpc_service}ImplBase", f"{s.grpc_service}ImplBase", "grpc_server", _rpc_id(s))])]
    for d in deps:
        rpc = d.rpc_names()[0]
        files.append(CodeFile(
            f"{base}/clients/{d.type}Client.java",
            f"package com.acme.{s.noun}.clients;\n\nimport com.acme.{d.noun}.v1.*;\nimport io.grpc.ManagedChannel;\n\n"
            f"public class {d.type}Client {{\n    private final {d.grpc_service}Grpc.{d.grpc_service}BlockingStub stub;\n\n"
            f"    public {d.type}Client(ManagedChannel channel) {{\n        this.stub = {d.grpc_service}Grpc.newBlockingStub(channel);\n    }}\n\n"
            f"    public {rpc}Response fetch(String id) {{\n        return stub.{rpc[:1].lower() + rpc[1:]}({rpc}Request.newBuilder().build());\n    }}\n",
            "}\n",
            usages=[(f"{d.grpc_service}Grpc.newBlockingStub(", "newBlockingStub", "grpc_client", _rpc_id(d))]))
    return files


def csharp_files(svc: Svc, deps: list[Svc], http_deps: list[Svc]) -> list[CodeFile]:
    s = svc
    methods = "".join(
        f"\n        public override Task<{rpc}Response> {rpc}({rpc}Request request, ServerCallContext context)\n        {{\n"
        f"            return Task.FromResult(new {rpc}Response());\n        }}\n" for rpc in s.rpc_names())
    files = [CodeFile(
        f"src/{s.type}.Api/Services/{s.grpc_service}Impl.cs",
        f"using System.Threading.Tasks;\nusing Acme.{s.type}.V1;\nusing Grpc.Core;\n\nnamespace Acme.{s.type}.Api.Services\n{{\n"
        f"    public class {s.grpc_service}Impl : {s.grpc_service}.{s.grpc_service}Base\n    {{\n{methods}",
        "    }\n}\n",
        usages=[(f": {s.grpc_service}.{s.grpc_service}Base", f"{s.grpc_service}Base", "grpc_server", _rpc_id(s))]
        + [(f"> {rpc}({rpc}Request request", rpc, "grpc_method", _rpc_id(s, rpc)) for rpc in s.rpc_names()])]
    for d in deps:
        rpc = d.rpc_names()[0]
        files.append(CodeFile(
            f"src/{s.type}.Api/Clients/{d.type}Client.cs",
            f"using System.Threading.Tasks;\nusing Acme.{d.type}.V1;\nusing Grpc.Net.Client;\n\nnamespace Acme.{s.type}.Api.Clients\n{{\n"
            f"    public class {d.type}Client\n    {{\n        private readonly {d.grpc_service}.{d.grpc_service}Client _client;\n\n"
            f"        public {d.type}Client(GrpcChannel channel)\n        {{\n            _client = new {d.grpc_service}.{d.grpc_service}Client(channel);\n        }}\n\n"
            f"        public async Task<{rpc}Response> FetchAsync(string id)\n        {{\n"
            f"            return await _client.{rpc}Async(new {rpc}Request());\n        }}\n",
            "    }\n}\n",
            usages=[(f"new {d.grpc_service}.{d.grpc_service}Client(", f"{d.grpc_service}Client", "grpc_client", _rpc_id(d))]))
    return files


CODE = {"go": go_files, "python": python_files, "typescript": typescript_files, "java": java_files,
        "csharp": csharp_files}


def static_files(svc: Svc, owners: list[str], deps_version: int) -> dict[str, str]:
    """Files that make a repo a service; `deps_version` moves with dependency-bump commits."""
    s, v = svc, deps_version
    manifest = {
        "go": ("go.mod", f"module github.com/acme/{s.name}\n\ngo 1.22\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.{9 + v % 3}.{v}\n"
                         f"\tgithub.com/acme/contracts v0.{v}.0\n\tgoogle.golang.org/grpc v1.{60 + v}.0\n)\n"),
        "python": ("pyproject.toml", f"[project]\nname = \"{s.name}\"\nversion = \"1.{v}.0\"\nrequires-python = \">=3.11\"\n"
                                     f"dependencies = [\"grpcio>=1.{60 + v}\", \"fastapi>=0.{100 + v}\", \"httpx>=0.27\"]\n"),
        "typescript": ("package.json", f"{{\n  \"name\": \"@acme/{s.name}\",\n  \"version\": \"1.{v}.0\",\n  \"private\": true,\n"
                                       f"  \"dependencies\": {{\n    \"@grpc/grpc-js\": \"^1.{9 + v}.0\",\n    \"express\": \"^4.{18 + v}.0\"\n  }}\n}}\n"),
        "java": ("pom.xml", f"<project>\n  <modelVersion>4.0.0</modelVersion>\n  <groupId>com.acme</groupId>\n  <artifactId>{s.name}</artifactId>\n"
                            f"  <version>1.{v}.0</version>\n  <dependencies>\n    <dependency>\n      <groupId>io.grpc</groupId>\n"
                            f"      <artifactId>grpc-stub</artifactId>\n      <version>1.{60 + v}.0</version>\n    </dependency>\n  </dependencies>\n</project>\n"),
        "csharp": (f"src/{s.type}.Api/{s.type}.Api.csproj", f"<Project Sdk=\"Microsoft.NET.Sdk.Web\">\n  <ItemGroup>\n"
                   f"    <PackageReference Include=\"Grpc.AspNetCore\" Version=\"2.{60 + v}.0\" />\n  </ItemGroup>\n</Project>\n"),
    }[s.lang]
    image = {"go": "golang:1.22", "python": "python:3.12-slim", "typescript": "node:20-slim",
             "java": "eclipse-temurin:21", "csharp": "mcr.microsoft.com/dotnet/aspnet:8.0"}[s.lang]
    deps = "".join(f"    - resource:{d}\n" for d in s.consumes)
    provides = f"  providesApis:\n    - {s.name}-grpc\n" + (f"    - {s.name}-http\n" if s.http else "")
    return {
        manifest[0]: manifest[1],
        "catalog-info.yaml": (f"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {s.name}\n"
                              f"  description: The {s.name} service.\n  annotations:\n    github.com/project-slug: acme/{s.name}\n"
                              f"spec:\n  type: service\n  lifecycle: production\n  owner: team-{s.team}\n{provides}"
                              f"  consumesApis:\n" + "".join(f"    - {d}-grpc\n" for d in s.consumes)
                              + (f"  dependsOn:\n{deps}" if deps else "")),
        "Dockerfile": f"FROM {image}\nWORKDIR /app\nCOPY . .\nEXPOSE 50051 8080\nUSER 10001\n",
        "CODEOWNERS": f"* @acme/team-{s.team}\n" + "".join(f"/migrations/ @{o}\n" for o in owners[:1]),
        "README.md": f"# {s.name}\n\nOwns the `{s.grpc_service}` API ({s.package}). Team: {s.team}.\n",
        ".gitignore": "*.log\n/build/\n/dist/\nnode_modules/\n__pycache__/\n",
    }
