//! The API describes itself: `/openapi.json` lists every route of the contract with its methods,
//! parameters, bodies and answers, and the docs pages (Swagger UI at `/docs`, ReDoc at `/redoc`)
//! load with every asset served by this binary, nothing from another host.
//!
//! The app is driven in-process (`tower::ServiceExt::oneshot`), without a socket.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use taskapi::app::{self, AppState};
use taskapi::config::{Config, Secret};
use taskapi::domain::{account, category, task};
use taskapi::store;
use tower::ServiceExt;

const SECRET: &str = "openapi-test-secret-0123456789abcdef";

/// Every route of SPEC §3–§6, with exactly the methods it answers.
const ROUTES: &[(&str, &[&str])] = &[
    ("/api/auth/signup", &["post"]),
    ("/api/auth/login", &["post"]),
    ("/api/auth/me", &["get", "delete"]),
    ("/api/auth/change-password", &["post"]),
    ("/api/{user_id}/tasks", &["get", "post"]),
    ("/api/{user_id}/tasks/{id}", &["get", "put", "patch", "delete"]),
    ("/api/{user_id}/tasks/{id}/complete", &["patch"]),
    ("/api/{user_id}/sync", &["get"]),
    ("/api/{user_id}/events", &["get"]),
    ("/api/{user_id}/tags", &["get"]),
    ("/api/{user_id}/tags/{name}", &["put", "delete"]),
    ("/api/{user_id}/categories", &["get", "post"]),
    ("/api/{user_id}/categories/{id}", &["get", "put", "patch", "delete"]),
    ("/", &["get"]),
    ("/health", &["get"]),
    ("/health/ready", &["get"]),
    ("/openapi.json", &["get"]),
    ("/docs", &["get"]),
    ("/redoc", &["get"]),
];

/// Routes that need no token.
const PUBLIC: &[&str] = &[
    "/api/auth/signup",
    "/api/auth/login",
    "/",
    "/health",
    "/health/ready",
    "/openapi.json",
    "/docs",
    "/redoc",
];

const METHODS: &[&str] = &["get", "put", "post", "delete", "options", "head", "patch", "trace"];

struct TestApp {
    router: Router,
    _dir: tempfile::TempDir,
}

struct Fetched {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Fetched {
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("a UTF-8 body")
    }

    fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

impl TestApp {
    async fn start() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let config = Config::from_lookup(|name| match name {
            "DATABASE_URL" => Some(url.clone()),
            "BETTER_AUTH_SECRET" => Some(SECRET.to_owned()),
            _ => None,
        })
        .expect("test configuration");
        let store = store::connect(&config).await.expect("database");
        store.migrate_up().await.expect("migrations");
        let state = AppState::new(&config, &Secret::new(SECRET.to_owned()), store).expect("state");
        Self {
            router: app::router(Arc::new(state), &config.cors_origins),
            _dir: dir,
        }
    }

    async fn get(&self, uri: &str) -> Fetched {
        let request = Request::get(uri).body(Body::empty()).expect("request");
        let response = self.router.clone().oneshot(request).await.expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.expect("body").to_bytes().to_vec();
        Fetched { status, headers, body }
    }

    async fn document(&self) -> Value {
        let res = self.get("/openapi.json").await;
        assert_eq!(res.status, StatusCode::OK);
        assert!(
            res.content_type().starts_with("application/json"),
            "{}",
            res.content_type()
        );
        serde_json::from_slice(&res.body).expect("/openapi.json is JSON")
    }
}

/// `doc` at a JSON pointer made of `segments` (escaped here).
fn at<'a>(doc: &'a Value, segments: &[&str]) -> &'a Value {
    let pointer: String = segments
        .iter()
        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        .collect();
    doc.pointer(&pointer).unwrap_or_else(|| panic!("nothing at {pointer}"))
}

/// Follows a `$ref` to `#/components/...`; anything else is returned as it is.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("a local reference: {reference}"));
            doc.pointer(pointer)
                .unwrap_or_else(|| panic!("{reference} does not resolve"))
        }
        None => value,
    }
}

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(*method) {
                ops.push((path.clone(), (*method).to_owned(), op));
            }
        }
    }
    ops
}

fn statuses(op: &Value) -> Vec<String> {
    op["responses"]
        .as_object()
        .expect("responses")
        .keys()
        .cloned()
        .collect()
}

fn parameter<'a>(doc: &'a Value, op: &'a Value, name: &str) -> &'a Value {
    op["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|p| resolve(doc, p))
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no parameter {name}"))
}

fn body_schema<'a>(doc: &'a Value, op: &'a Value) -> &'a Value {
    resolve(doc, &op["requestBody"]["content"]["application/json"]["schema"])
}

fn collect_refs<'a>(value: &'a Value, refs: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => refs.push(r),
                    _ => collect_refs(v, refs),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, refs)),
        _ => {}
    }
}

#[tokio::test]
async fn every_route_of_the_contract_is_documented_with_its_methods() {
    let app = TestApp::start().await;
    let doc = app.document().await;
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")),
        "OpenAPI 3.1: {}",
        doc["openapi"]
    );
    assert_eq!(doc["info"]["title"], "Task Manager API");

    let paths = doc["paths"].as_object().expect("paths");
    for (path, methods) in ROUTES {
        let item = paths
            .get(*path)
            .unwrap_or_else(|| panic!("{path} is not in /openapi.json"));
        let documented: Vec<&str> = METHODS.iter().copied().filter(|m| item.get(*m).is_some()).collect();
        let mut expected = methods.to_vec();
        expected.sort_by_key(|m| METHODS.iter().position(|x| x == m));
        assert_eq!(documented, expected, "methods of {path}");
    }
    let mut listed: Vec<&str> = ROUTES.iter().map(|(p, _)| *p).collect();
    listed.sort_unstable();
    let mut documented: Vec<&str> = paths.keys().map(String::as_str).collect();
    documented.sort_unstable();
    assert_eq!(
        documented, listed,
        "/openapi.json documents exactly the contract's routes"
    );

    // Operation ids are unique, and every reference resolves.
    let mut ids: Vec<&str> = operations(&doc)
        .iter()
        .map(|(p, m, op)| {
            op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{m} {p} has no operationId"))
        })
        .collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "duplicate operationId");
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for reference in refs {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("non-local $ref {reference}"));
        assert!(doc.pointer(pointer).is_some(), "{reference} does not resolve");
    }
}

#[tokio::test]
async fn protected_routes_carry_the_bearer_scheme_and_their_error_answers() {
    let app = TestApp::start().await;
    let doc = app.document().await;
    let scheme = at(&doc, &["components", "securitySchemes", "bearer"]);
    assert_eq!(scheme["type"], "http");
    assert_eq!(scheme["scheme"], "bearer");
    let cookie = at(&doc, &["components", "securitySchemes", "betterAuthSession"]);
    assert_eq!(
        (&cookie["type"], &cookie["in"], &cookie["name"]),
        (&json!("apiKey"), &json!("cookie"), &json!("better-auth.session_token"))
    );

    for (path, method, op) in operations(&doc) {
        let codes = statuses(op);
        let has = |code: &str| codes.iter().any(|c| c == code);
        let what = format!("{} {path}", method.to_uppercase());
        assert!(
            codes.iter().any(|c| c.starts_with('2') || c.starts_with('3')),
            "{what}: a success answer"
        );
        for code in &codes {
            let response = resolve(&doc, &op["responses"][code.as_str()]);
            assert!(
                response["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{what} {code}: description"
            );
            if code.starts_with('4') || code.starts_with('5') {
                let schema = resolve(&doc, &response["content"]["application/json"]["schema"]);
                let required = schema["required"].as_array().cloned().unwrap_or_default();
                assert!(
                    required.contains(&json!("detail")),
                    "{what} {code}: a {{\"detail\"}} body"
                );
            }
        }
        if PUBLIC.contains(&path.as_str()) {
            assert!(op.get("security").is_none(), "{what} needs no token");
        } else {
            assert_eq!(
                op["security"],
                json!([{"bearer": []}, {"betterAuthSession": []}]),
                "{what}: bearer token or Better Auth's session cookie"
            );
            assert!(has("401") && has("403"), "{what}: 401 and 403");
            let unauthorized = resolve(&doc, &op["responses"]["401"]);
            assert!(
                unauthorized["headers"].get("WWW-Authenticate").is_some(),
                "{what}: 401 has WWW-Authenticate"
            );
        }
        if op.get("requestBody").is_some() {
            for code in ["413", "415", "422"] {
                assert!(has(code), "{what}: a body-taking route answers {code}");
            }
            assert!(
                op["requestBody"]["content"].get("application/json").is_some(),
                "{what}: JSON body"
            );
            let schema = body_schema(&doc, op);
            assert!(
                schema.get("example").is_some() || schema.get("examples").is_some(),
                "{what}: body example"
            );
        }
        if path.starts_with("/api/") {
            assert!(has("500") && has("503"), "{what}: 500 and 503");
        }
        if path.contains("{id}") {
            assert!(
                has("404") && has("422"),
                "{what}: 404 for an unknown id, 422 for a malformed one"
            );
            assert_eq!(
                resolve(&doc, parameter(&doc, op, "id"))["schema"]["format"],
                "uuid",
                "{what}: id is a UUID"
            );
        }
        if path.contains("{user_id}") {
            let user_id = parameter(&doc, op, "user_id");
            assert_eq!(user_id["in"], "path");
            assert_eq!(
                user_id["schema"]["maxLength"], 255,
                "{what}: user ids are at most 255 characters"
            );
        }
    }

    // The login and signup brute-force limits.
    for path in ["/api/auth/login", "/api/auth/signup"] {
        let response = resolve(&doc, at(&doc, &["paths", path, "post", "responses", "429"]));
        assert!(
            response["headers"].get("Retry-After").is_some(),
            "{path}: 429 has Retry-After"
        );
    }
    let conflict = at(&doc, &["paths", "/api/auth/signup", "post", "responses"]);
    assert!(conflict.get("409").is_some(), "signup: 409 for a registered email");
    for (path, method) in [
        ("/api/{user_id}/categories", "post"),
        ("/api/{user_id}/categories/{id}", "put"),
        ("/api/{user_id}/categories/{id}", "patch"),
    ] {
        assert!(
            at(&doc, &["paths", path, method, "responses"]).get("409").is_some(),
            "{method} {path}: 409 for a taken name"
        );
    }

    // Headers of the success answers.
    let list = at(&doc, &["paths", "/api/{user_id}/tasks", "get", "responses", "200"]);
    assert!(
        list["headers"].get("X-Total-Count").is_some(),
        "the task list has X-Total-Count"
    );
    assert_eq!(list["content"]["application/json"]["schema"]["type"], "array");
    for path in ["/api/{user_id}/tasks", "/api/{user_id}/categories"] {
        let created = at(&doc, &["paths", path, "post", "responses", "201"]);
        assert!(created["headers"].get("Location").is_some(), "{path}: 201 has Location");
        assert!(
            created["links"].as_object().is_some_and(|l| !l.is_empty()),
            "{path}: 201 links to the new resource"
        );
        for link in created["links"].as_object().unwrap().values() {
            assert!(
                link["operationId"].is_string(),
                "links name their operation as `operationId`: {link}"
            );
        }
    }
    for (path, method) in [
        ("/api/auth/me", "delete"),
        ("/api/{user_id}/tasks/{id}", "delete"),
        ("/api/{user_id}/categories/{id}", "delete"),
    ] {
        assert!(
            at(&doc, &["paths", path, method, "responses"]).get("204").is_some(),
            "{method} {path}: 204"
        );
    }
}

#[tokio::test]
async fn documented_constraints_match_the_parsing_code() {
    let app = TestApp::start().await;
    let doc = app.document().await;
    let schemas = at(&doc, &["components", "schemas"]);
    let prop = |schema: &str, field: &str| resolve(&doc, at(schemas, &[schema, "properties", field])).clone();

    let list = at(&doc, &["paths", "/api/{user_id}/tasks", "get"]);
    let limit = &parameter(&doc, list, "limit")["schema"];
    assert_eq!(
        (limit["minimum"].as_i64(), limit["maximum"].as_i64()),
        (Some(1), Some(task::LIST_LIMIT_MAX))
    );
    assert_eq!(limit["default"].as_i64(), Some(task::LIST_LIMIT_DEFAULT));
    assert_eq!(parameter(&doc, list, "offset")["schema"]["minimum"], 0);
    let sort = parameter(&doc, list, "sort")["schema"]["enum"]
        .as_array()
        .expect("sort values")
        .clone();
    assert_eq!(sort.len(), 10);
    for value in &sort {
        let value = value.as_str().unwrap();
        assert!(
            task::TaskQuery::parse(Some(&format!("sort={value}"))).is_ok(),
            "sort={value}"
        );
    }
    assert_eq!(
        parameter(&doc, list, "priority")["schema"]["enum"],
        json!(["low", "medium", "high"])
    );
    assert_eq!(parameter(&doc, list, "category_id")["schema"]["format"], "uuid");
    for name in ["due_before", "due_after"] {
        assert_eq!(parameter(&doc, list, name)["schema"]["format"], "date-time");
    }

    for schema in ["TaskCreate", "TaskReplace", "TaskPatch"] {
        let title = prop(schema, "title");
        assert_eq!(
            (title["minLength"].as_u64(), title["maxLength"].as_u64()),
            (Some(1), Some(task::TITLE_MAX as u64)),
            "{schema}.title"
        );
        assert_eq!(
            prop(schema, "description")["maxLength"].as_u64(),
            Some(task::DESCRIPTION_MAX as u64),
            "{schema}.description"
        );
        assert_eq!(prop(schema, "due_date")["format"], "date-time");
        assert_eq!(prop(schema, "category_id")["format"], "uuid");
    }
    for schema in ["CategoryCreate", "CategoryReplace", "CategoryPatch"] {
        assert_eq!(
            prop(schema, "name")["maxLength"].as_u64(),
            Some(category::NAME_MAX as u64),
            "{schema}.name"
        );
        assert_eq!(prop(schema, "color")["pattern"], "^#[0-9A-Fa-f]{6}$", "{schema}.color");
    }
    assert_eq!(prop("CategoryCreate", "color")["default"], category::DEFAULT_COLOR);
    let password = prop("SignupRequest", "password");
    assert_eq!(
        (password["minLength"].as_u64(), password["maxLength"].as_u64()),
        (Some(account::PASSWORD_MIN as u64), Some(account::PASSWORD_MAX as u64))
    );
    assert_eq!(
        prop("SignupRequest", "email")["maxLength"].as_u64(),
        Some(account::EMAIL_MAX as u64)
    );
    assert_eq!(
        prop("SignupRequest", "name")["maxLength"].as_u64(),
        Some(account::NAME_MAX as u64)
    );
    assert_eq!(
        prop("ChangePasswordRequest", "new_password")["minLength"].as_u64(),
        Some(account::PASSWORD_MIN as u64)
    );
    assert_eq!(
        at(schemas, &["SignupRequest", "required"]),
        &json!(["email", "password"])
    );
    assert_eq!(at(schemas, &["TaskCreate", "required"]), &json!(["title"]));
    assert_eq!(at(schemas, &["TaskReplace", "required"]), &json!(["title"]));
    assert!(at(schemas, &["TaskPatch"]).get("required").is_none());

    // Every documented example body is one the server parses.
    let example = |name: &str| at(schemas, &[name, "example"]).clone();
    account::Signup::parse(&example("SignupRequest")).expect("signup example");
    account::Login::parse(&example("LoginRequest")).expect("login example");
    account::ChangePassword::parse(&example("ChangePasswordRequest")).expect("change-password example");
    account::parse_delete_password(&example("DeleteAccountRequest")).expect("delete-account example");
    task::NewTask::parse(&example("TaskCreate")).expect("task create example");
    task::TaskChanges::parse(&example("TaskReplace"), true).expect("task replace example");
    task::TaskChanges::parse(&example("TaskPatch"), false).expect("task patch example");
    category::NewCategory::parse(&example("CategoryCreate")).expect("category create example");
    category::CategoryChanges::parse(&example("CategoryReplace"), true).expect("category replace example");
    category::CategoryChanges::parse(&example("CategoryPatch"), false).expect("category patch example");
}

/// The `src` and `href` attribute values of an HTML page.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=", "href="] {
        let mut rest = html;
        while let Some(i) = rest.find(attribute) {
            rest = &rest[i + attribute.len()..];
            let Some(quote) = rest.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            let value = &rest[1..];
            if let Some(end) = value.find(quote) {
                found.push(value[..end].to_owned());
            }
        }
    }
    found
}

/// `reference` as an absolute path, relative to the page at `page` (a path ending in `/` or a
/// file name).
fn local_path(page: &str, reference: &str) -> String {
    if reference.starts_with('/') {
        return reference.to_owned();
    }
    let dir = &page[..=page.rfind('/').unwrap_or(0)];
    format!("{dir}{}", reference.trim_start_matches("./"))
}

/// Loads a docs page as a browser would (following one redirect), then every script, stylesheet
/// and icon it references; returns the page's final path and its HTML.
async fn load_page(app: &TestApp, path: &str) -> (String, String) {
    let mut page = path.to_owned();
    let mut res = app.get(&page).await;
    if res.status.is_redirection() {
        let location = res
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .expect("a redirect's Location")
            .to_owned();
        assert!(
            location.starts_with('/'),
            "{path} redirects within this server, not to {location}"
        );
        page = location;
        res = app.get(&page).await;
    }
    assert_eq!(res.status, StatusCode::OK, "GET {page}");
    assert!(
        res.content_type().starts_with("text/html"),
        "{page}: {}",
        res.content_type()
    );
    let html = res.text();
    for scheme in ["http://", "https://"] {
        assert!(
            !html.contains(scheme),
            "{page} refers to another host: {}",
            &html[html.find(scheme).unwrap()..][..60.min(html.len() - html.find(scheme).unwrap())]
        );
    }
    let refs = references(&html);
    assert!(
        refs.iter().any(|r| r.ends_with(".js")),
        "{page} loads its scripts: {refs:?}"
    );
    for reference in refs {
        assert!(
            !reference.starts_with("//"),
            "{page} refers to another host: {reference}"
        );
        let asset = local_path(&page, &reference);
        let res = app.get(&asset).await;
        assert_eq!(res.status, StatusCode::OK, "{page} references {reference}: GET {asset}");
        assert!(!res.body.is_empty(), "{asset} is empty");
        let expected = if asset.ends_with(".js") {
            "javascript"
        } else if asset.ends_with(".css") {
            "text/css"
        } else if asset.ends_with(".png") {
            "image/png"
        } else {
            ""
        };
        assert!(res.content_type().contains(expected), "{asset}: {}", res.content_type());
    }
    (page, html)
}

#[tokio::test]
async fn swagger_ui_loads_from_this_server_with_the_document_and_bearer_authorization() {
    let app = TestApp::start().await;
    let (page, html) = load_page(&app, "/docs").await;
    assert_eq!(page, "/docs/");
    assert!(html.contains("swagger-initializer.js"));
    let init = app.get("/docs/swagger-initializer.js").await;
    assert_eq!(init.status, StatusCode::OK);
    let init = init.text();
    assert!(
        init.contains("\"/openapi.json\""),
        "Swagger UI loads /openapi.json: {init}"
    );
    assert!(
        !init.contains("http://") && !init.contains("https://"),
        "nothing from another host: {init}"
    );
    assert!(
        init.contains("\"validatorUrl\": \"none\""),
        "no online validator badge: {init}"
    );
    assert!(init.contains("\"persistAuthorization\": true"), "{init}");
    // The Authorize button comes from the document's security scheme.
    let doc = app.document().await;
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}

#[tokio::test]
async fn redoc_loads_from_this_server() {
    let app = TestApp::start().await;
    let (page, html) = load_page(&app, "/redoc").await;
    assert_eq!(page, "/redoc");
    assert!(html.contains("spec-url=\"/openapi.json\""), "{html}");
    assert!(html.contains("<script src=\"/redoc/redoc.standalone.js\">"), "{html}");
    let bundle = app.get("/redoc/redoc.standalone.js").await.text();
    assert!(bundle.len() > 500_000, "the whole ReDoc bundle");
    for cdn in ["cdn.redoc.ly", "fonts.googleapis.com", "cdn.jsdelivr.net", "unpkg.com"] {
        assert!(!bundle.contains(cdn), "the ReDoc bundle loads nothing from {cdn}");
    }
}

#[tokio::test]
async fn the_document_is_the_generated_one() {
    let app = TestApp::start().await;
    let doc = app.document().await;
    assert_eq!(doc, taskapi::http::openapi::openapi_document());
    for path in ["/docs/no-such-file.js", "/redoc/no-such-file.js"] {
        let unknown = app.get(path).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{path}");
        let body: Value = serde_json::from_slice(&unknown.body).expect("a JSON error body");
        assert_eq!(body, json!({"detail": "Not found"}), "{path}");
    }
}
