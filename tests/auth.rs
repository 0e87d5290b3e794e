//! Accounts and tokens (SPEC §2, §3) on both backends: the round trip, every way a token can be
//! wrong, revocation, external identities, JWKS, brute-force limits and bcrypt imports.

mod common;

use std::time::Duration;

use axum::routing::get;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{assert_detail, assert_validation, status_json, Backend, TestApp, TestUser, PASSWORD, SECRET};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{json, Value};
use taskapi::domain::account::Email;
use taskapi::domain::Timestamp;
use taskapi::store::ImportedAccount;

backend_tests!(
    signup_login_me_change_delete_round_trip,
    signup_validation_and_duplicates,
    no_response_carries_a_password_or_hash,
    bad_tokens_get_401,
    password_change_revokes_earlier_tokens,
    deleted_account_token_is_dead,
    disabled_account_is_refused,
    wrong_passwords_on_change_and_delete,
    passlib_bcrypt_hash_logs_in_and_is_upgraded,
    external_hs256_identity_is_provisioned,
    failed_logins_are_limited,
);

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn sign_hs256(claims: &Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

async fn me(app: &TestApp, token: &str) -> (u16, Value, Option<String>) {
    let res = app
        .request(Method::GET, "/api/auth/me")
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let www = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    let (status, body) = status_json(res).await;
    (status, body, www)
}

async fn login(app: &TestApp, email: &str, password: &str) -> (u16, Value) {
    status_json(
        app.request(Method::POST, "/api/auth/login")
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn assert_token_fields(body: &Value, user_id: &str, email: &str) {
    assert_eq!(body["user_id"], user_id);
    assert_eq!(body["email"], email);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 7 * 24 * 3600);
    assert!(body["token"].as_str().is_some_and(|t| t.split('.').count() == 3));
    assert_eq!(body["token"], body["access_token"]);
}

async fn signup_login_me_change_delete_round_trip(app: &TestApp) {
    let (status, body) = status_json(
        app.request(Method::POST, "/api/auth/signup")
            .json(&json!({"email": "  Round.Trip@Example.COM ", "password": PASSWORD, "name": "Ada"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let user_id = body["user_id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&user_id).is_ok());
    assert_eq!(body["email"], "round.trip@example.com");
    assert_eq!(body["name"], "Ada");
    assert_eq!(body["is_active"], true);
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
    assert_token_fields(&body, &user_id, "round.trip@example.com");
    // The token is a real HS256 JWT with the contract's claims.
    let payload: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(body["token"].as_str().unwrap().split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(payload["sub"], user_id.as_str());
    assert_eq!(payload["email"], "round.trip@example.com");
    assert_eq!(payload["iss"], "taskapi");
    assert_eq!(
        payload["exp"].as_i64().unwrap() - payload["iat"].as_i64().unwrap(),
        7 * 24 * 3600
    );

    let user_object = json!({"user_id": user_id, "email": "round.trip@example.com", "name": "Ada", "is_active": true, "created_at": body["created_at"]});
    let (status, got, _) = me(app, body["token"].as_str().unwrap()).await;
    assert_eq!((status, got), (200, user_object.clone()));

    let (status, logged) = login(app, "ROUND.TRIP@example.com", PASSWORD).await;
    assert_eq!(status, 200);
    assert_token_fields(&logged, &user_id, "round.trip@example.com");
    let token = logged["token"].as_str().unwrap().to_owned();
    let (status, got, _) = me(app, &token).await;
    assert_eq!((status, got), (200, user_object));

    let (status, changed) = status_json(
        app.request(Method::POST, "/api/auth/change-password")
            .bearer_auth(&token)
            .json(&json!({"current_password": PASSWORD, "new_password": "a new password"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    assert_token_fields(&changed, &user_id, "round.trip@example.com");
    let fresh = changed["token"].as_str().unwrap().to_owned();
    assert_eq!(login(app, "round.trip@example.com", PASSWORD).await.0, 401);
    assert_eq!(login(app, "round.trip@example.com", "a new password").await.0, 200);

    let res = app
        .request(Method::DELETE, "/api/auth/me")
        .bearer_auth(&fresh)
        .json(&json!({"password": "a new password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(res.bytes().await.unwrap().is_empty());
    let (status, body) = login(app, "round.trip@example.com", "a new password").await;
    assert_detail(status, &body, 401, "Invalid email or password");
}

async fn signup_validation_and_duplicates(app: &TestApp) {
    let signup = |body: Value| app.request(Method::POST, "/api/auth/signup").json(&body).send();
    for (body, loc) in [
        (json!({"password": PASSWORD}), "email"),
        (json!({"email": "not-an-email", "password": PASSWORD}), "email"),
        (json!({"email": "a@nodot", "password": PASSWORD}), "email"),
        (json!({"email": "a b@example.com", "password": PASSWORD}), "email"),
        (
            json!({"email": format!("{}@example.com", "a".repeat(250)), "password": PASSWORD}),
            "email",
        ),
        (json!({"email": "ok@example.com"}), "password"),
        (json!({"email": "ok@example.com", "password": "short"}), "password"),
        (
            json!({"email": "ok@example.com", "password": "p".repeat(129)}),
            "password",
        ),
        (
            json!({"email": "ok@example.com", "password": PASSWORD, "name": "n".repeat(101)}),
            "name",
        ),
        (json!({"email": null, "password": PASSWORD}), "email"),
    ] {
        let (status, err) = status_json(signup(body).await.unwrap()).await;
        assert_validation(status, &err, &["body", loc]);
    }
    let (status, _) = status_json(
        signup(json!({"email": "edge@example.com", "password": "p".repeat(128)}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201);
    let (status, err) = status_json(
        signup(json!({"email": "EDGE@Example.com", "password": PASSWORD}))
            .await
            .unwrap(),
    )
    .await;
    assert_detail(status, &err, 409, "Email already registered");

    // Two signups racing for one email: exactly one wins.
    let a = app
        .request(Method::POST, "/api/auth/signup")
        .json(&json!({"email": "race@example.com", "password": PASSWORD}))
        .send();
    let b = app
        .request(Method::POST, "/api/auth/signup")
        .json(&json!({"email": "RACE@example.com", "password": PASSWORD}))
        .send();
    let (a, b) = tokio::join!(a, b);
    let mut statuses = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409]);

    // Wrong content type, no body.
    let res = app
        .request(Method::POST, "/api/auth/signup")
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    let (status, err) = status_json(res).await;
    assert_eq!(status, 415);
    assert!(err["detail"].is_string());
    let (status, err) = status_json(app.request(Method::POST, "/api/auth/signup").send().await.unwrap()).await;
    assert_validation(status, &err, &["body"]);
}

fn assert_no_secret(body: &Value) {
    let text = body.to_string();
    for needle in ["password", "hashed", "$argon2", "$2b$"] {
        assert!(!text.contains(needle), "{needle} in {text}");
    }
}

async fn no_response_carries_a_password_or_hash(app: &TestApp) {
    let (_, signed) = status_json(
        app.request(Method::POST, "/api/auth/signup")
            .json(&json!({"email": "nohash@example.com", "password": PASSWORD}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_no_secret(&signed);
    let (_, logged) = login(app, "nohash@example.com", PASSWORD).await;
    assert_no_secret(&logged);
    let (_, got, _) = me(app, logged["token"].as_str().unwrap()).await;
    assert_no_secret(&got);
    let (_, changed) = status_json(
        app.request(Method::POST, "/api/auth/change-password")
            .bearer_auth(logged["token"].as_str().unwrap())
            .json(&json!({"current_password": PASSWORD, "new_password": "password456"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_no_secret(&changed);
}

async fn bad_tokens_get_401(app: &TestApp) {
    let user = app.signup("tokens@example.com").await;
    let path = "/api/auth/me";
    let expect_401 = |res: reqwest::Response, detail: &'static str| async move {
        assert_eq!(
            res.headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned()),
            Some("Bearer".to_owned())
        );
        let (status, body) = status_json(res).await;
        assert_detail(status, &body, 401, detail);
    };
    expect_401(
        app.request(Method::GET, path).send().await.unwrap(),
        "Authorization header missing",
    )
    .await;
    expect_401(
        app.request(Method::GET, path)
            .header("authorization", format!("Basic {}", user.token))
            .send()
            .await
            .unwrap(),
        "Invalid authorization header",
    )
    .await;
    expect_401(
        app.request(Method::GET, path)
            .header("authorization", "Bearer ")
            .send()
            .await
            .unwrap(),
        "Invalid authorization header",
    )
    .await;
    expect_401(
        app.request(Method::GET, path)
            .header("authorization", "Bearer")
            .send()
            .await
            .unwrap(),
        "Invalid authorization header",
    )
    .await;
    expect_401(
        app.request(Method::GET, path)
            .header("authorization", user.token.clone())
            .send()
            .await
            .unwrap(),
        "Invalid authorization header",
    )
    .await;

    let parts: Vec<&str> = user.token.split('.').collect();
    let payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let other = app.signup("victim@example.com").await;
    let mut tampered_claims = payload.clone();
    tampered_claims["sub"] = json!(other.id);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(tampered_claims.to_string()),
        parts[2]
    );
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    // RS256 in the header, signed with the shared secret as an HMAC key: algorithm confusion.
    let confused = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
        parts[1],
        parts[2]
    );
    let hs512 = encode(
        &Header::new(Algorithm::HS512),
        &payload,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    let base = json!({"sub": user.id, "iss": "taskapi", "ver": 0, "iat": now()});
    let mut expired = base.clone();
    expired["exp"] = json!(now() - 120);
    let mut no_sub = base.clone();
    no_sub["exp"] = json!(now() + 600);
    no_sub.as_object_mut().unwrap().remove("sub");
    let no_exp = base.clone();
    let mut good = base.clone();
    good["exp"] = json!(now() + 600);

    for (token, what) in [
        ("garbage".to_owned(), "garbage"),
        ("a.b.c".to_owned(), "three garbage parts"),
        (
            sign_hs256(&good, "another-secret-that-is-long-enough-1234"),
            "wrong signature",
        ),
        (tampered, "tampered payload"),
        (none, "alg none"),
        (confused, "RS256 signed with the HS secret"),
        (hs512, "HS512"),
        (sign_hs256(&expired, SECRET), "expired"),
        (sign_hs256(&no_sub, SECRET), "no sub"),
        (sign_hs256(&no_exp, SECRET), "no exp"),
    ] {
        let (status, body, www) = me(app, &token).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert_eq!(body, json!({"detail": "Invalid or expired token"}), "{what}");
        assert_eq!(www.as_deref(), Some("Bearer"), "{what}");
    }
    // The hand-made good token works, so the rejections above are for the stated reasons.
    assert_eq!(me(app, &sign_hs256(&good, SECRET)).await.0, 200);
    // Every protected route refuses a bad token.
    let (status, _) = status_json(
        app.request(Method::GET, &format!("/api/{}/tasks", user.id))
            .bearer_auth("garbage")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 401);
}

async fn password_change_revokes_earlier_tokens(app: &TestApp) {
    let user = app.signup("revoke@example.com").await;
    let (_, second) = login(app, &user.email, PASSWORD).await;
    let second = second["token"].as_str().unwrap().to_owned();
    assert_eq!(me(app, &user.token).await.0, 200);
    let (status, changed) = status_json(
        app.request(Method::POST, "/api/auth/change-password")
            .bearer_auth(&user.token)
            .json(&json!({"current_password": PASSWORD, "new_password": "changed password"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    // Tokens issued before, even within the same second, stop working at once.
    for old in [&user.token, &second] {
        let (status, body, _) = me(app, old).await;
        assert_detail(status, &body, 401, "Invalid or expired token");
        let (status, _) = status_json(
            app.request(Method::GET, &format!("/api/{}/tasks", user.id))
                .bearer_auth(old)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, 401);
    }
    assert_eq!(me(app, changed["token"].as_str().unwrap()).await.0, 200);
}

async fn deleted_account_token_is_dead(app: &TestApp) {
    let user = app.signup("deleted@example.com").await;
    assert_eq!(me(app, &user.token).await.0, 200);
    let res = app
        .request(Method::DELETE, "/api/auth/me")
        .bearer_auth(&user.token)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let (status, body, _) = me(app, &user.token).await;
    assert_detail(status, &body, 401, "Invalid or expired token");
    let res = app
        .as_user(&user, Method::POST, &format!("/api/{}/tasks", user.id))
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // Not re-provisioned as an external identity.
    assert!(app.store.account_by_id(&user.id).await.unwrap().is_none());
}

async fn disabled_account_is_refused(app: &TestApp) {
    let user = app.signup("disabled@example.com").await;
    assert_eq!(me(app, &user.token).await.0, 200);
    assert!(app.store.set_active(&user.email, false).await.unwrap().is_some());
    // What `taskapi users disable` does from another process is seen within the cache bound; in
    // this process, dropping the entry makes it immediate.
    app.state.accounts.invalidate(&user.id);
    let (status, body, _) = me(app, &user.token).await;
    assert_detail(status, &body, 403, "Account is disabled");
    let (status, body) = status_json(
        app.as_user(&user, Method::GET, &format!("/api/{}/tasks", user.id))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_detail(status, &body, 403, "Account is disabled");
    let (status, body) = login(app, &user.email, PASSWORD).await;
    assert_detail(status, &body, 403, "Account is disabled");
    // A wrong password says nothing about the account's state.
    let (status, body) = login(app, &user.email, "wrong password").await;
    assert_detail(status, &body, 401, "Invalid email or password");
    app.store.set_active(&user.email, true).await.unwrap();
    app.state.accounts.invalidate(&user.id);
    assert_eq!(me(app, &user.token).await.0, 200);
}

async fn wrong_passwords_on_change_and_delete(app: &TestApp) {
    let user = app.signup("wrongpw@example.com").await;
    let change = |body: Value| {
        app.request(Method::POST, "/api/auth/change-password")
            .bearer_auth(&user.token)
            .json(&body)
            .send()
    };
    let (status, body) = status_json(
        change(json!({"current_password": "not my password", "new_password": "new password"}))
            .await
            .unwrap(),
    )
    .await;
    assert_detail(status, &body, 403, "Incorrect password");
    // Validation comes first: a too-short new password is a 422 even with a wrong current one.
    let (status, body) = status_json(
        change(json!({"current_password": "not my password", "new_password": "short"}))
            .await
            .unwrap(),
    )
    .await;
    assert_validation(status, &body, &["body", "new_password"]);
    let (status, body) = status_json(change(json!({"new_password": "long enough"})).await.unwrap()).await;
    assert_validation(status, &body, &["body", "current_password"]);
    // So is a current password too short to be anyone's.
    let (status, body) = status_json(
        change(json!({"current_password": "short", "new_password": "long enough"}))
            .await
            .unwrap(),
    )
    .await;
    assert_validation(status, &body, &["body", "current_password"]);
    assert_eq!(body["detail"][0]["type"], "string_too_short");

    let delete = |body: Option<Value>| {
        let req = app.request(Method::DELETE, "/api/auth/me").bearer_auth(&user.token);
        match body {
            Some(b) => req.json(&b).send(),
            None => req.send(),
        }
    };
    let (status, body) = status_json(delete(None).await.unwrap()).await;
    assert_validation(status, &body, &["body", "password"]);
    let (status, body) = status_json(delete(Some(json!({}))).await.unwrap()).await;
    assert_validation(status, &body, &["body", "password"]);
    let (status, body) = status_json(delete(Some(json!({"password": "short"}))).await.unwrap()).await;
    assert_validation(status, &body, &["body", "password"]);
    assert_eq!(body["detail"][0]["type"], "string_too_short");
    let (status, body) = status_json(delete(Some(json!({"password": "not my password"}))).await.unwrap()).await;
    assert_detail(status, &body, 403, "Incorrect password");
    assert_eq!(me(app, &user.token).await.0, 200, "still there");
}

async fn passlib_bcrypt_hash_logs_in_and_is_upgraded(app: &TestApp) {
    let hash = include_str!("fixtures/passlib_bcrypt.txt").trim().to_owned();
    let outcome = app
        .store
        .import_accounts(&[ImportedAccount {
            id: "legacy-1".into(),
            email: Email::parse("Legacy@Example.com").unwrap(),
            password_hash: hash.clone(),
            name: None,
            is_active: true,
            created_at: Timestamp::now(),
        }])
        .await
        .unwrap();
    assert_eq!((outcome.imported, outcome.skipped), (1, 0));
    assert_eq!(login(app, "legacy@example.com", "wrong password").await.0, 401);
    let (status, body) = login(app, "legacy@example.com", "password123").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user_id"], "legacy-1");
    let stored = app.store.account_by_email("legacy@example.com").await.unwrap().unwrap();
    let new_hash = stored.password_hash.unwrap();
    assert!(new_hash.starts_with("$argon2id$"), "re-hashed: {new_hash}");
    // The token issued with the upgrade still works, and so does the password.
    assert_eq!(me(app, body["token"].as_str().unwrap()).await.0, 200);
    assert_eq!(login(app, "legacy@example.com", "password123").await.0, 200);
}

async fn external_hs256_identity_is_provisioned(app: &TestApp) {
    let local = app.signup("taken@example.com").await;
    let sub = "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF";
    let claims = json!({"sub": sub, "email": "Better@Auth.dev", "name": "Better User", "iss": "http://localhost:3000", "aud": "http://localhost:3000", "iat": now(), "exp": now() + 600});
    let token = sign_hs256(&claims, SECRET);
    let (status, body, _) = me(app, &token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user_id"], sub);
    assert_eq!(body["email"], "better@auth.dev");
    assert_eq!(body["name"], "Better User");
    assert_eq!(body["is_active"], true);
    let external = TestUser {
        id: sub.into(),
        email: "better@auth.dev".into(),
        token: token.clone(),
    };
    let created = app.create_task(&external, json!({"title": "from Better Auth"})).await;
    assert_eq!(created["user_id"], sub);
    let (status, listed) = status_json(
        app.as_user(&external, Method::GET, &format!("/api/{sub}/tasks"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, listed), (200, json!([created])));

    // An email that belongs to another account is left out, never merged.
    let other_sub = "zZ9yY8xX7wW6vV5uU4tT3sS2rR1qQ0pP";
    let claims =
        json!({"sub": other_sub, "email": "taken@example.com", "iss": "http://localhost:3000", "exp": now() + 600});
    let (status, body, _) = me(app, &sign_hs256(&claims, SECRET)).await;
    assert_eq!(status, 200);
    assert_eq!(body["email"], Value::Null);
    let (_, still_local, _) = me(app, &local.token).await;
    assert_eq!(still_local["email"], "taken@example.com");
    // An external token can never speak for a local account.
    let claims = json!({"sub": local.id, "iss": "http://localhost:3000", "exp": now() + 600});
    assert_eq!(me(app, &sign_hs256(&claims, SECRET)).await.0, 401);

    // External accounts have no password: deleting needs no body.
    let res = app
        .request(Method::DELETE, "/api/auth/me")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(app.store.account_by_id(sub).await.unwrap().is_none());
}

async fn failed_logins_are_limited(app: &TestApp) {
    let user = app.signup("brute@example.com").await;
    for i in 0..10 {
        let (status, _) = login(app, &user.email, &format!("wrong password {i}")).await;
        assert_eq!(status, 401, "attempt {}", i + 1);
    }
    let res = app
        .request(Method::POST, "/api/auth/login")
        .json(&json!({"email": user.email, "password": "wrong again"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429, "the 11th failure in a minute");
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let (_, body) = status_json(res).await;
    assert!(body["detail"].is_string());
    // Even the right password: the limit is no oracle.
    let (status, _) = login(app, &user.email, PASSWORD).await;
    assert_eq!(status, 429);
    // Unknown emails count too, and other accounts are not locked.
    let other = app.signup("innocent@example.com").await;
    assert_eq!(login(app, &other.email, PASSWORD).await.0, 200);
    for _ in 0..10 {
        assert_eq!(login(app, "ghost@example.com", "whatever1").await.0, 401);
    }
    assert_eq!(login(app, "ghost@example.com", "whatever1").await.0, 429);
    // Successful logins do not count.
    for _ in 0..12 {
        assert_eq!(login(app, &other.email, PASSWORD).await.0, 200);
    }
}

// Tests below need their own configuration, so they are written per backend by hand.

async fn signup_limit(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, &[("RATE_LIMIT_SIGNUP_PER_MINUTE", "3")], axum::Router::new()).await
    else {
        return;
    };
    for i in 0..3 {
        app.signup(&format!("s{i}@example.com")).await;
    }
    let res = app
        .request(Method::POST, "/api/auth/signup")
        .json(&json!({"email": "s4@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    app.stop().await;
}

#[tokio::test]
async fn signup_limit_sqlite() {
    signup_limit(Backend::Sqlite).await;
}

#[tokio::test]
async fn signup_limit_postgres() {
    signup_limit(Backend::Postgres).await;
}

fn sign_with_pem(alg: Algorithm, kid: &str, pem_file: &str, claims: &Value) -> String {
    let pem = std::fs::read(format!("{}/tests/fixtures/jwks/{pem_file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let key = match alg {
        Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem).unwrap(),
        Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem).unwrap(),
        _ => unreachable!(),
    };
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    encode(&header, claims, &key).unwrap()
}

/// A local JWKS endpoint, as Better Auth serves one.
async fn jwks_server() -> (String, tokio::sync::oneshot::Sender<()>) {
    let jwks: Value = serde_json::from_str(include_str!("fixtures/jwks/jwks.json")).unwrap();
    let router = axum::Router::new().route("/api/auth/jwks", get(move || async move { axum::Json(jwks) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/auth/jwks", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    (url, tx)
}

async fn jwks_tokens(backend: Backend) {
    let (jwks_url, stop_jwks) = jwks_server().await;
    let issuer = "http://localhost:3000";
    let Some(app) = TestApp::start_with(
        backend,
        &[
            ("AUTH_JWKS_URL", &jwks_url),
            ("AUTH_JWT_ISSUER", issuer),
            ("AUTH_JWT_AUDIENCE", issuer),
        ],
        axum::Router::new(),
    )
    .await
    else {
        return;
    };
    let claims = |sub: &str| json!({"sub": sub, "email": format!("{}@jwks.dev", sub.to_lowercase()), "iss": issuer, "aud": issuer, "iat": now(), "exp": now() + 600});

    let ed = sign_with_pem(
        Algorithm::EdDSA,
        "ed-key-1",
        "ed25519.pem",
        &claims("EdUser0123456789abcdefghijklmnop"),
    );
    let (status, body, _) = me(&app, &ed).await;
    assert_eq!(status, 200, "EdDSA: {body}");
    assert_eq!(body["user_id"], "EdUser0123456789abcdefghijklmnop");
    let rsa = sign_with_pem(
        Algorithm::RS256,
        "rsa-key-1",
        "rsa.pem",
        &claims("RsaUser0123456789abcdefghijklmn"),
    );
    let (status, body, _) = me(&app, &rsa).await;
    assert_eq!(status, 200, "RS256: {body}");
    let user = TestUser {
        id: "RsaUser0123456789abcdefghijklmn".into(),
        email: String::new(),
        token: rsa.clone(),
    };
    app.create_task(&user, json!({"title": "via JWKS"})).await;

    // A kid the set does not hold, a key that is not the kid's, a wrong issuer or audience.
    let unknown_kid = sign_with_pem(Algorithm::EdDSA, "not-in-the-set", "ed25519.pem", &claims("X1"));
    let wrong_key = sign_with_pem(Algorithm::EdDSA, "ed-key-1", "ed25519_unknown.pem", &claims("X2"));
    let mut wrong_iss = claims("X3");
    wrong_iss["iss"] = json!("https://evil.example");
    let mut wrong_aud = claims("X4");
    wrong_aud["aud"] = json!("https://evil.example");
    let mut ours = claims("X5");
    ours["iss"] = json!("taskapi");
    // The key's algorithm is fixed by the set: an RS256 header on the Ed25519 kid is refused.
    let alg_swap = sign_with_pem(Algorithm::RS256, "ed-key-1", "rsa.pem", &claims("X6"));
    for (token, what) in [
        (unknown_kid, "unknown kid"),
        (wrong_key, "wrong key"),
        (
            sign_with_pem(Algorithm::EdDSA, "ed-key-1", "ed25519.pem", &wrong_iss),
            "wrong iss",
        ),
        (
            sign_with_pem(Algorithm::EdDSA, "ed-key-1", "ed25519.pem", &wrong_aud),
            "wrong aud",
        ),
        (
            sign_with_pem(Algorithm::EdDSA, "ed-key-1", "ed25519.pem", &ours),
            "our issuer from a JWKS key",
        ),
        (alg_swap, "algorithm swapped"),
    ] {
        let (status, body, _) = me(&app, &token).await;
        assert_detail(status, &body, 401, "Invalid or expired token");
        let _ = what;
    }
    // HS256 external tokens must match the configured issuer too.
    let hs = sign_hs256(
        &json!({"sub": "hs-user", "iss": "https://evil.example", "exp": now() + 600}),
        SECRET,
    );
    assert_eq!(me(&app, &hs).await.0, 401);

    // The JWKS endpoint goes away: cached keys keep working.
    let _ = stop_jwks.send(());
    tokio::time::sleep(Duration::from_millis(100)).await;
    let ed_again = sign_with_pem(
        Algorithm::EdDSA,
        "ed-key-1",
        "ed25519.pem",
        &claims("EdUser0123456789abcdefghijklmnop"),
    );
    assert_eq!(me(&app, &ed_again).await.0, 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_tokens_sqlite() {
    jwks_tokens(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_tokens_postgres() {
    jwks_tokens(Backend::Postgres).await;
}
