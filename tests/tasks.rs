//! Tasks and categories (SPEC §4, §5) on both backends.

mod common;

use std::collections::HashSet;

use common::{assert_detail, assert_validation, status_json, Backend, TestApp, TestUser};
use reqwest::Method;
use serde_json::{json, Value};

backend_tests!(
    quickstart_flow,
    create_defaults_and_location,
    title_and_description_bounds,
    priority_due_date_and_category_validation,
    put_patch_null_and_timestamps,
    completed_at_follows_completed,
    concurrent_toggles_lose_nothing,
    filters_and_total_count,
    sorting_in_both_directions,
    paging_never_repeats_or_skips,
    query_validation,
    isolation_between_users,
    categories_crud_and_rules,
    deleting_a_category_uncategorises_its_tasks,
    deleting_the_account_deletes_its_data,
    the_database_keeps_the_field_rules,
);

fn tasks_path(user: &TestUser) -> String {
    format!("/api/{}/tasks", user.id)
}

async fn list(app: &TestApp, user: &TestUser, query: &str) -> (Vec<Value>, i64) {
    let res = app
        .as_user(user, Method::GET, &format!("{}?{query}", tasks_path(user)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "list ?{query}");
    let total: i64 = res.headers()["x-total-count"].to_str().unwrap().parse().unwrap();
    (res.json::<Vec<Value>>().await.unwrap(), total)
}

fn titles(tasks: &[Value]) -> Vec<&str> {
    tasks.iter().map(|t| t["title"].as_str().unwrap()).collect()
}

fn is_timestamp(v: &Value) -> bool {
    let s = v.as_str().unwrap_or_default();
    s.len() == 27 && s.ends_with('Z') && s.as_bytes()[19] == b'.' && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

async fn quickstart_flow(app: &TestApp) {
    let user = app.signup("flow@example.com").await;
    let created = app
        .create_task(&user, json!({"title": "Buy groceries", "description": "Milk, eggs", "priority": "high", "due_date": "2026-02-01T17:00:00Z"}))
        .await;
    assert_eq!(created["title"], "Buy groceries");
    assert_eq!(created["description"], "Milk, eggs");
    assert_eq!(created["priority"], "high");
    assert_eq!(created["completed"], false);
    assert_eq!(created["due_date"], "2026-02-01T17:00:00.000000Z");
    assert_eq!(created["user_id"], user.id.as_str());
    assert_eq!(created["completed_at"], Value::Null);
    assert_eq!(created["category_id"], Value::Null);
    assert!(uuid::Uuid::parse_str(created["id"].as_str().unwrap()).is_ok());
    assert!(is_timestamp(&created["created_at"]) && created["created_at"] == created["updated_at"]);
    let id = created["id"].as_str().unwrap();

    // What a write returns is what a read returns.
    let (status, fetched) = status_json(
        app.as_user(&user, Method::GET, &format!("{}/{id}", tasks_path(&user)))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, &fetched), (200, &created));

    let (tasks, total) = list(app, &user, "").await;
    assert_eq!((tasks, total), (vec![created.clone()], 1));

    let (status, toggled) = status_json(
        app.as_user(&user, Method::PATCH, &format!("{}/{id}/complete", tasks_path(&user)))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(toggled["completed"], true);
    assert!(is_timestamp(&toggled["completed_at"]));

    let (status, updated) = status_json(
        app.as_user(&user, Method::PUT, &format!("{}/{id}", tasks_path(&user)))
            .json(&json!({"title": "Buy more groceries"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(updated["title"], "Buy more groceries");
    assert_eq!(updated["description"], "Milk, eggs", "left out, unchanged");
    assert_eq!(updated["completed"], true);

    let res = app
        .as_user(&user, Method::DELETE, &format!("{}/{id}", tasks_path(&user)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert!(res.bytes().await.unwrap().is_empty());
    let (status, body) = status_json(
        app.as_user(&user, Method::GET, &format!("{}/{id}", tasks_path(&user)))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_detail(status, &body, 404, "Task not found");
    let (status, body) = status_json(
        app.as_user(&user, Method::DELETE, &format!("{}/{id}", tasks_path(&user)))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_detail(status, &body, 404, "Task not found");
}

async fn create_defaults_and_location(app: &TestApp) {
    let user = app.signup("defaults@example.com").await;
    let res = app
        .as_user(&user, Method::POST, &tasks_path(&user))
        .json(&json!({"title": "  padded  ", "id": "00000000-0000-0000-0000-000000000000", "user_id": "someone-else", "created_at": "2000-01-01T00:00:00Z", "extra": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let task: Value = res.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/{}/tasks/{}", user.id, task["id"].as_str().unwrap())
    );
    assert_eq!(task["title"], "padded");
    assert_eq!(task["priority"], "medium");
    assert_eq!(task["completed"], false);
    assert_eq!(task["description"], Value::Null);
    assert_ne!(task["id"], "00000000-0000-0000-0000-000000000000");
    assert_eq!(task["user_id"], user.id.as_str());
    assert_ne!(task["created_at"], "2000-01-01T00:00:00.000000Z");

    // Created completed: completed_at is set at once.
    let done = app
        .create_task(&user, json!({"title": "done", "completed": true}))
        .await;
    assert!(is_timestamp(&done["completed_at"]));
    // Microseconds kept, finer digits truncated, offsets converted to UTC.
    let t = app
        .create_task(
            &user,
            json!({"title": "precise", "due_date": "2026-01-29T12:00:00.1234567+02:00"}),
        )
        .await;
    assert_eq!(t["due_date"], "2026-01-29T10:00:00.123456Z");
}

async fn title_and_description_bounds(app: &TestApp) {
    let user = app.signup("bounds@example.com").await;
    let path = tasks_path(&user);
    let post = |body: Value| app.as_user(&user, Method::POST, &path).json(&body).send();

    for (body, loc) in [
        (json!({}), "title"),
        (json!({"title": ""}), "title"),
        (json!({"title": "   \t\n"}), "title"),
        (json!({"title": "x".repeat(256)}), "title"),
        (json!({"title": null}), "title"),
        (json!({"title": 42}), "title"),
        (json!({"title": "nul\u{0}inside"}), "title"),
        (json!({"title": "ok", "description": "nul\u{0}"}), "description"),
        (json!({"title": "ok", "description": "d".repeat(2001)}), "description"),
        (json!({"title": "ok", "completed": "yes"}), "completed"),
    ] {
        let (status, err) = status_json(post(body).await.unwrap()).await;
        assert_validation(status, &err, &["body", loc]);
    }
    let ok = app
        .create_task(
            &user,
            json!({"title": "é".repeat(255), "description": "d".repeat(2000)}),
        )
        .await;
    assert_eq!(ok["title"].as_str().unwrap().chars().count(), 255);
    assert_eq!(ok["description"].as_str().unwrap().len(), 2000);

    // Not an object, not JSON.
    let (status, err) = status_json(post(json!(["title"])).await.unwrap()).await;
    assert_validation(status, &err, &["body"]);
    let res = app
        .as_user(&user, Method::POST, &path)
        .header("content-type", "application/json")
        .body("{\"title\":")
        .send()
        .await
        .unwrap();
    let (status, err) = status_json(res).await;
    assert_validation(status, &err, &["body"]);
    assert_eq!(list(app, &user, "").await.1, 1, "nothing half-written");
}

async fn priority_due_date_and_category_validation(app: &TestApp) {
    let user = app.signup("validate@example.com").await;
    let other = app.signup("other-validate@example.com").await;
    let foreign = app.create_category(&other, "Theirs").await;
    let path = tasks_path(&user);
    for (body, loc) in [
        (json!({"title": "t", "priority": "urgent"}), "priority"),
        (json!({"title": "t", "priority": null}), "priority"),
        (json!({"title": "t", "due_date": "tomorrow"}), "due_date"),
        (json!({"title": "t", "due_date": "2026-01-01"}), "due_date"),
        (json!({"title": "t", "due_date": "2026-01-01T10:00:00"}), "due_date"),
        (json!({"title": "t", "category_id": "not-a-uuid"}), "category_id"),
        (json!({"title": "t", "category_id": foreign["id"]}), "category_id"),
        (
            json!({"title": "t", "category_id": uuid::Uuid::new_v4()}),
            "category_id",
        ),
    ] {
        let (status, err) = status_json(
            app.as_user(&user, Method::POST, &path)
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_validation(status, &err, &["body", loc]);
    }
    // Several problems are reported together.
    let (status, err) = status_json(
        app.as_user(&user, Method::POST, &path)
            .json(&json!({"title": "", "priority": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_validation(status, &err, &["body", "title"]);
    assert_validation(status, &err, &["body", "priority"]);

    // Moving a task to another user's category is refused too, and changes nothing.
    let task = app.create_task(&user, json!({"title": "mine"})).await;
    let task_path = format!("{path}/{}", task["id"].as_str().unwrap());
    let (status, err) = status_json(
        app.as_user(&user, Method::PATCH, &task_path)
            .json(&json!({"category_id": foreign["id"], "title": "changed"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_validation(status, &err, &["body", "category_id"]);
    let (_, unchanged) = status_json(app.as_user(&user, Method::GET, &task_path).send().await.unwrap()).await;
    assert_eq!(unchanged, task);
    // Own category works.
    let own = app.create_category(&user, "Mine").await;
    let (status, moved) = status_json(
        app.as_user(&user, Method::PATCH, &task_path)
            .json(&json!({"category_id": own["id"]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(moved["category_id"], own["id"]);
    assert_eq!(list(app, &user, "").await.1, 1);
}

async fn put_patch_null_and_timestamps(app: &TestApp) {
    let user = app.signup("put@example.com").await;
    let task = app
        .create_task(
            &user,
            json!({"title": "t", "description": "d", "due_date": "2026-03-01T00:00:00Z", "priority": "low"}),
        )
        .await;
    let path = format!("{}/{}", tasks_path(&user), task["id"].as_str().unwrap());

    // PUT requires title.
    let (status, err) = status_json(
        app.as_user(&user, Method::PUT, &path)
            .json(&json!({"description": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_validation(status, &err, &["body", "title"]);

    // An empty PATCH changes nothing, updated_at included.
    let (status, same) = status_json(
        app.as_user(&user, Method::PATCH, &path)
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, &same), (200, &task));

    // Explicit null clears nullable fields; left-out fields stay.
    let (status, cleared) = status_json(
        app.as_user(&user, Method::PATCH, &path)
            .json(&json!({"description": null, "due_date": null}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(cleared["description"], Value::Null);
    assert_eq!(cleared["due_date"], Value::Null);
    assert_eq!(cleared["priority"], "low");
    assert_eq!(cleared["title"], "t");
    assert_eq!(cleared["created_at"], task["created_at"], "created_at never moves");
    assert!(
        cleared["updated_at"].as_str() > task["updated_at"].as_str(),
        "updated_at moves"
    );

    let (status, put) = status_json(
        app.as_user(&user, Method::PUT, &path)
            .json(&json!({"title": "  new  ", "priority": "high"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (put["title"].as_str(), put["priority"].as_str()),
        (Some("new"), Some("high"))
    );
    assert!(put["updated_at"].as_str() > cleared["updated_at"].as_str());
    assert_eq!(put["created_at"], task["created_at"]);

    // null for a field that cannot be null is a 422.
    for field in ["title", "priority", "completed"] {
        let (status, err) = status_json(
            app.as_user(&user, Method::PATCH, &path)
                .json(&json!({ field: null }))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_validation(status, &err, &["body", field]);
    }
    let (_, after) = status_json(app.as_user(&user, Method::GET, &path).send().await.unwrap()).await;
    assert_eq!(after, put, "failed writes changed nothing");

    // Unknown task: 404 for every verb.
    let missing = format!("{}/{}", tasks_path(&user), uuid::Uuid::new_v4());
    for method in [Method::GET, Method::PUT, Method::PATCH, Method::DELETE] {
        let (status, body) = status_json(
            app.as_user(&user, method.clone(), &missing)
                .json(&json!({"title": "x"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_detail(status, &body, 404, "Task not found");
    }
    let (status, body) = status_json(
        app.as_user(&user, Method::PATCH, &format!("{missing}/complete"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_detail(status, &body, 404, "Task not found");
}

async fn completed_at_follows_completed(app: &TestApp) {
    let user = app.signup("completed@example.com").await;
    let task = app.create_task(&user, json!({"title": "t"})).await;
    let path = format!("{}/{}", tasks_path(&user), task["id"].as_str().unwrap());
    let patch = |body: Value| app.as_user(&user, Method::PATCH, &path).json(&body).send();

    let (_, done) = status_json(patch(json!({"completed": true})).await.unwrap()).await;
    assert_eq!(done["completed"], true);
    assert!(is_timestamp(&done["completed_at"]));
    // Completing again keeps the first completion time.
    let (_, again) = status_json(patch(json!({"completed": true})).await.unwrap()).await;
    assert_eq!(again["completed_at"], done["completed_at"]);
    let (_, undone) = status_json(patch(json!({"completed": false})).await.unwrap()).await;
    assert_eq!(
        (undone["completed"].clone(), undone["completed_at"].clone()),
        (json!(false), Value::Null)
    );
    let (_, toggled) = status_json(
        app.as_user(&user, Method::PATCH, &format!("{path}/complete"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(toggled["completed"] == true && is_timestamp(&toggled["completed_at"]));
    let (_, toggled) = status_json(
        app.as_user(&user, Method::PATCH, &format!("{path}/complete"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(toggled["completed"] == false && toggled["completed_at"].is_null());
}

async fn concurrent_toggles_lose_nothing(app: &TestApp) {
    let user = app.signup("toggle@example.com").await;
    let task = app.create_task(&user, json!({"title": "t"})).await;
    let path = format!("{}/{}/complete", tasks_path(&user), task["id"].as_str().unwrap());
    let requests = (0..20).map(|_| app.as_user(&user, Method::PATCH, &path).send());
    for res in futures_join_all(requests).await {
        assert_eq!(res.unwrap().status(), 200);
    }
    let (_, after) = status_json(
        app.as_user(
            &user,
            Method::GET,
            &format!("{}/{}", tasks_path(&user), task["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(after["completed"], false, "20 toggles leave the task as it started");
    assert_eq!(after["completed_at"], Value::Null);
    // And an odd number flips it.
    for res in futures_join_all((0..21).map(|_| app.as_user(&user, Method::PATCH, &path).send())).await {
        assert_eq!(res.unwrap().status(), 200);
    }
    let (_, after) = status_json(
        app.as_user(
            &user,
            Method::GET,
            &format!("{}/{}", tasks_path(&user), task["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(after["completed"], true);
}

/// Runs futures concurrently on the test runtime.
async fn futures_join_all<F, T>(futures: impl IntoIterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

async fn filters_and_total_count(app: &TestApp) {
    let user = app.signup("filters@example.com").await;
    let work = app.create_category(&user, "Work").await;
    app.create_task(&user, json!({"title": "Pay 50% of rent", "priority": "high", "due_date": "2026-01-10T00:00:00Z", "category_id": work["id"]})).await;
    app.create_task(&user, json!({"title": "Write report", "description": "Quarterly NUMBERS", "priority": "low", "due_date": "2026-01-20T00:00:00Z", "completed": true})).await;
    app.create_task(
        &user,
        json!({"title": "snake_case rename", "priority": "medium", "category_id": work["id"]}),
    )
    .await;
    app.create_task(&user, json!({"title": "Ünïcode Straße"})).await;
    // A search matches within the title or within the description, never across the two, and
    // control characters are matched like any other (the q= cases below).
    app.create_task(&user, json!({"title": "ends here", "description": "starts there"}))
        .await;
    app.create_task(&user, json!({"title": "unit\u{1f}separated"})).await;
    for i in 0..3 {
        app.create_task(&user, json!({"title": format!("filler {i}"), "priority": "low"}))
            .await;
    }

    let cases: Vec<(String, Vec<&str>)> = vec![
        ("completed=true".into(), vec!["Write report"]),
        ("priority=high".into(), vec!["Pay 50% of rent"]),
        (
            format!("category_id={}", work["id"].as_str().unwrap()),
            vec!["snake_case rename", "Pay 50% of rent"],
        ),
        ("q=REPORT".into(), vec!["Write report"]),
        ("q=numbers".into(), vec!["Write report"]),
        ("q=50%25".into(), vec!["Pay 50% of rent"]),
        ("q=%25".into(), vec!["Pay 50% of rent"]),
        ("q=_".into(), vec!["snake_case rename"]),
        ("q=here%1Fstarts".into(), vec![]),
        ("q=here".into(), vec!["ends here"]),
        ("q=THERE".into(), vec!["ends here"]),
        ("q=t%1Fs".into(), vec!["unit\u{1f}separated"]),
        ("q=%1F".into(), vec!["unit\u{1f}separated"]),
        ("due_before=2026-01-15T00:00:00Z".into(), vec!["Pay 50% of rent"]),
        ("due_after=2026-01-10T00:00:00Z".into(), vec!["Write report"]),
        ("due_before=2026-01-10T00:00:00Z".into(), vec![]),
        (
            "due_after=2026-01-01T00:00:00%2B00:00&due_before=2026-12-31T00:00:00Z".into(),
            vec!["Write report", "Pay 50% of rent"],
        ),
        (
            "completed=false&priority=low".into(),
            vec!["filler 2", "filler 1", "filler 0"],
        ),
    ];
    for (query, want) in cases {
        let (tasks, total) = list(app, &user, &query).await;
        assert_eq!(titles(&tasks), want, "?{query}");
        assert_eq!(total, want.len() as i64, "X-Total-Count for ?{query}");
    }
    if app.backend == common::Backend::Postgres {
        // PostgreSQL folds case beyond ASCII; SQLite's lower() knows ASCII only (documented).
        let (tasks, _) = list(app, &user, "q=STRASSE").await;
        assert!(tasks.is_empty());
        let (tasks, _) = list(app, &user, "q=%C3%9CN%C3%8F").await;
        assert_eq!(titles(&tasks), vec!["Ünïcode Straße"]);
    }
    // The total counts matches before paging.
    let (tasks, total) = list(app, &user, "priority=low&limit=2").await;
    assert_eq!((tasks.len(), total), (2, 4));
    let (tasks, total) = list(app, &user, "priority=low&limit=2&offset=10").await;
    assert_eq!((tasks.len(), total), (0, 4));
}

async fn sorting_in_both_directions(app: &TestApp) {
    let user = app.signup("sorting@example.com").await;
    let specs = [
        ("banana", "low", Some("2026-03-01T00:00:00Z")),
        ("Apple", "high", None),
        ("cherry", "medium", Some("2026-01-01T00:00:00Z")),
        ("apricot", "high", Some("2026-02-01T00:00:00Z")),
    ];
    for (title, priority, due) in specs {
        app.create_task(&user, json!({"title": title, "priority": priority, "due_date": due}))
            .await;
    }
    // Touch banana so updated_at order differs from created_at order.
    let (all, _) = list(app, &user, "sort=created_at").await;
    assert_eq!(titles(&all), ["banana", "Apple", "cherry", "apricot"]);
    let banana = all[0]["id"].as_str().unwrap();
    app.as_user(&user, Method::PATCH, &format!("{}/{banana}", tasks_path(&user)))
        .json(&json!({"description": "touched"}))
        .send()
        .await
        .unwrap();

    let cases = [
        ("", vec!["apricot", "cherry", "Apple", "banana"]),
        ("sort=-created_at", vec!["apricot", "cherry", "Apple", "banana"]),
        ("sort=updated_at", vec!["Apple", "cherry", "apricot", "banana"]),
        ("sort=-updated_at", vec!["banana", "apricot", "cherry", "Apple"]),
        ("sort=due_date", vec!["cherry", "apricot", "banana", "Apple"]),
        ("sort=-due_date", vec!["banana", "apricot", "cherry", "Apple"]),
        ("sort=title", vec!["Apple", "apricot", "banana", "cherry"]),
        ("sort=-title", vec!["cherry", "banana", "apricot", "Apple"]),
    ];
    for (query, want) in cases {
        let (tasks, _) = list(app, &user, query).await;
        assert_eq!(titles(&tasks), want, "?{query}");
    }
    // Priority: low → medium → high ascending, high first descending; ties by id.
    let (tasks, _) = list(app, &user, "sort=priority").await;
    let priorities: Vec<&str> = tasks.iter().map(|t| t["priority"].as_str().unwrap()).collect();
    assert_eq!(priorities, ["low", "medium", "high", "high"]);
    let (tasks, _) = list(app, &user, "sort=-priority").await;
    let priorities: Vec<&str> = tasks.iter().map(|t| t["priority"].as_str().unwrap()).collect();
    assert_eq!(priorities, ["high", "high", "medium", "low"]);
}

async fn paging_never_repeats_or_skips(app: &TestApp) {
    let user = app.signup("paging@example.com").await;
    // Same priority everywhere, so the order rests on the id tie-break.
    let requests = (0..250).map(|i| {
        app.as_user(&user, Method::POST, &tasks_path(&user))
            .json(&json!({"title": format!("task {i:03}"), "priority": "medium"}))
            .send()
    });
    for res in futures_join_all(requests).await {
        assert_eq!(res.unwrap().status(), 201);
    }
    for sort in ["-created_at", "priority", "-priority", "due_date", "title"] {
        let mut seen = HashSet::new();
        let mut offset = 0;
        loop {
            let (page, total) = list(app, &user, &format!("sort={sort}&limit=7&offset={offset}")).await;
            assert_eq!(total, 250);
            if page.is_empty() {
                break;
            }
            assert!(page.len() <= 7);
            for t in &page {
                assert!(
                    seen.insert(t["id"].as_str().unwrap().to_owned()),
                    "task repeated with sort={sort}"
                );
            }
            offset += 7;
            assert!(offset < 1000, "paging did not end");
        }
        assert_eq!(seen.len(), 250, "every task exactly once with sort={sort}");
    }
    let (page, _) = list(app, &user, "limit=1000").await;
    assert_eq!(page.len(), 250);
    let (page, _) = list(app, &user, "").await;
    assert_eq!(page.len(), 100, "default limit");
}

async fn query_validation(app: &TestApp) {
    let user = app.signup("query@example.com").await;
    for (query, name) in [
        ("completed=maybe", "completed"),
        ("priority=urgent", "priority"),
        ("category_id=nope", "category_id"),
        ("due_before=yesterday", "due_before"),
        ("due_after=2026-01-01", "due_after"),
        ("sort=name", "sort"),
        ("sort=--title", "sort"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("offset=1.5", "offset"),
        ("q=a%00b", "q"),
    ] {
        let res = app
            .as_user(&user, Method::GET, &format!("{}?{query}", tasks_path(&user)))
            .send()
            .await
            .unwrap();
        let (status, body) = status_json(res).await;
        assert_validation(status, &body, &["query", name]);
    }
}

async fn isolation_between_users(app: &TestApp) {
    let alice = app.signup("alice@example.com").await;
    let bob = app.signup("bob@example.com").await;
    let task = app
        .create_task(&alice, json!({"title": "alice's secret", "description": "private"}))
        .await;
    let category = app.create_category(&alice, "Alice only").await;
    let tid = task["id"].as_str().unwrap();
    let cid = category["id"].as_str().unwrap();
    let body = json!({"title": "pwned", "name": "pwned", "completed": true});

    // Bob on Alice's paths: 403, whatever the route, and before the body is even looked at.
    let alice_routes = [
        (Method::GET, format!("/api/{}/tasks", alice.id)),
        (Method::POST, format!("/api/{}/tasks", alice.id)),
        (Method::GET, format!("/api/{}/tasks/{tid}", alice.id)),
        (Method::PUT, format!("/api/{}/tasks/{tid}", alice.id)),
        (Method::PATCH, format!("/api/{}/tasks/{tid}", alice.id)),
        (Method::DELETE, format!("/api/{}/tasks/{tid}", alice.id)),
        (Method::PATCH, format!("/api/{}/tasks/{tid}/complete", alice.id)),
        (Method::GET, format!("/api/{}/categories", alice.id)),
        (Method::POST, format!("/api/{}/categories", alice.id)),
        (Method::GET, format!("/api/{}/categories/{cid}", alice.id)),
        (Method::PUT, format!("/api/{}/categories/{cid}", alice.id)),
        (Method::PATCH, format!("/api/{}/categories/{cid}", alice.id)),
        (Method::DELETE, format!("/api/{}/categories/{cid}", alice.id)),
    ];
    for (method, path) in &alice_routes {
        let (status, err) = status_json(
            app.as_user(&bob, method.clone(), path)
                .json(&json!({"bad": "body"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_detail(
            status,
            &err,
            403,
            "Access denied: You can only access your own resources",
        );
        // No token at all: 401 wins over 403.
        let res = app.request(method.clone(), path).json(&body).send().await.unwrap();
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        let (status, err) = status_json(res).await;
        assert_detail(status, &err, 401, "Authorization header missing");
    }

    // Alice's ids through Bob's own paths: 404, never 403 and never her data.
    let bob_routes = [
        (Method::GET, format!("/api/{}/tasks/{tid}", bob.id), "Task not found"),
        (Method::PUT, format!("/api/{}/tasks/{tid}", bob.id), "Task not found"),
        (Method::PATCH, format!("/api/{}/tasks/{tid}", bob.id), "Task not found"),
        (Method::DELETE, format!("/api/{}/tasks/{tid}", bob.id), "Task not found"),
        (
            Method::PATCH,
            format!("/api/{}/tasks/{tid}/complete", bob.id),
            "Task not found",
        ),
        (
            Method::GET,
            format!("/api/{}/categories/{cid}", bob.id),
            "Category not found",
        ),
        (
            Method::PUT,
            format!("/api/{}/categories/{cid}", bob.id),
            "Category not found",
        ),
        (
            Method::PATCH,
            format!("/api/{}/categories/{cid}", bob.id),
            "Category not found",
        ),
        (
            Method::DELETE,
            format!("/api/{}/categories/{cid}", bob.id),
            "Category not found",
        ),
    ];
    for (method, path, detail) in &bob_routes {
        let (status, err) = status_json(
            app.as_user(&bob, method.clone(), path)
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_detail(status, &err, 404, detail);
    }
    // Bob cannot file a task under Alice's category either.
    let (status, err) = status_json(
        app.as_user(&bob, Method::POST, &tasks_path(&bob))
            .json(&json!({"title": "x", "category_id": cid}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_validation(status, &err, &["body", "category_id"]);
    let (bob_tasks, total) = list(app, &bob, "").await;
    assert_eq!((bob_tasks.len(), total), (0, 0));
    let (status, cats) = status_json(
        app.as_user(&bob, Method::GET, &format!("/api/{}/categories", bob.id))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, cats), (200, json!([])));

    // Alice's data is unchanged.
    let (status, after) = status_json(
        app.as_user(&alice, Method::GET, &format!("/api/{}/tasks/{tid}", alice.id))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, after), (200, task));
    let (status, after) = status_json(
        app.as_user(&alice, Method::GET, &format!("/api/{}/categories/{cid}", alice.id))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, after), (200, category));
}

async fn categories_crud_and_rules(app: &TestApp) {
    let user = app.signup("cats@example.com").await;
    let other = app.signup("cats-other@example.com").await;
    let path = format!("/api/{}/categories", user.id);

    let res = app
        .as_user(&user, Method::POST, &path)
        .json(&json!({"name": "  Work  "}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let work: Value = res.json().await.unwrap();
    assert_eq!(location, format!("{path}/{}", work["id"].as_str().unwrap()));
    assert_eq!(
        (work["name"].as_str(), work["color"].as_str()),
        (Some("Work"), Some("#3B82F6"))
    );
    assert_eq!(work["user_id"], user.id.as_str());
    assert!(is_timestamp(&work["created_at"]) && work["created_at"] == work["updated_at"]);

    // Unique per user, ignoring case; another user may use the name.
    let (status, err) = status_json(
        app.as_user(&user, Method::POST, &path)
            .json(&json!({"name": "WORK"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_detail(status, &err, 409, "Category already exists");
    app.create_category(&other, "work").await;

    for (body, loc) in [
        (json!({}), "name"),
        (json!({"name": " "}), "name"),
        (json!({"name": "n".repeat(101)}), "name"),
        (json!({"name": "ok", "color": "blue"}), "color"),
        (json!({"name": "ok", "color": "#12345"}), "color"),
        (json!({"name": "ok", "color": "#GGGGGG"}), "color"),
        (json!({"name": "ok", "color": null}), "color"),
    ] {
        let (status, err) = status_json(
            app.as_user(&user, Method::POST, &path)
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_validation(status, &err, &["body", loc]);
    }
    let home = app
        .as_user(&user, Method::POST, &path)
        .json(&json!({"name": "home", "color": "#10b981"}))
        .send()
        .await
        .unwrap();
    let home: Value = home.json().await.unwrap();
    assert_eq!(home["color"], "#10b981");
    app.create_category(&user, "Errands").await;

    // Listed by name, ignoring case.
    let (status, listed) = status_json(app.as_user(&user, Method::GET, &path).send().await.unwrap()).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Errands", "home", "Work"]);

    // Rename and recolour; renaming onto another's name (any case) is a 409.
    let work_path = format!("{path}/{}", work["id"].as_str().unwrap());
    let (status, renamed) = status_json(
        app.as_user(&user, Method::PATCH, &work_path)
            .json(&json!({"name": "Office", "color": "#000000"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (renamed["name"].as_str(), renamed["color"].as_str()),
        (Some("Office"), Some("#000000"))
    );
    assert!(renamed["updated_at"].as_str() > work["updated_at"].as_str());
    assert_eq!(renamed["created_at"], work["created_at"]);
    let (status, err) = status_json(
        app.as_user(&user, Method::PATCH, &work_path)
            .json(&json!({"name": "HOME"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_detail(status, &err, 409, "Category already exists");
    let (status, err) = status_json(
        app.as_user(&user, Method::PUT, &work_path)
            .json(&json!({"color": "#111111"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_validation(status, &err, &["body", "name"]);
    let (status, same) = status_json(
        app.as_user(&user, Method::PATCH, &work_path)
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, same), (200, renamed.clone()));
    // Changing only the case of its own name is fine.
    let (status, recased) = status_json(
        app.as_user(&user, Method::PUT, &work_path)
            .json(&json!({"name": "OFFICE"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, recased["name"].as_str()), (200, Some("OFFICE")));

    let (status, got) = status_json(app.as_user(&user, Method::GET, &work_path).send().await.unwrap()).await;
    assert_eq!((status, got), (200, recased));
    let res = app.as_user(&user, Method::DELETE, &work_path).send().await.unwrap();
    assert_eq!(res.status(), 204);
    let (status, err) = status_json(app.as_user(&user, Method::GET, &work_path).send().await.unwrap()).await;
    assert_detail(status, &err, 404, "Category not found");
    let (status, err) = status_json(
        app.as_user(&user, Method::GET, &format!("{path}/not-a-uuid"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_validation(status, &err, &["path", "id"]);
}

async fn deleting_a_category_uncategorises_its_tasks(app: &TestApp) {
    let user = app.signup("uncat@example.com").await;
    let cat = app.create_category(&user, "Doomed").await;
    let keep = app.create_category(&user, "Kept").await;
    let a = app
        .create_task(&user, json!({"title": "a", "category_id": cat["id"]}))
        .await;
    let b = app
        .create_task(&user, json!({"title": "b", "category_id": keep["id"]}))
        .await;
    assert_eq!(a["category_id"], cat["id"]);
    let res = app
        .as_user(
            &user,
            Method::DELETE,
            &format!("/api/{}/categories/{}", user.id, cat["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let (_, a_after) = status_json(
        app.as_user(
            &user,
            Method::GET,
            &format!("{}/{}", tasks_path(&user), a["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(a_after["category_id"], Value::Null);
    assert_eq!(a_after["title"], "a");
    let (_, b_after) = status_json(
        app.as_user(
            &user,
            Method::GET,
            &format!("{}/{}", tasks_path(&user), b["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(b_after, b);
}

async fn deleting_the_account_deletes_its_data(app: &TestApp) {
    let user = app.signup("leaving@example.com").await;
    let stays = app.signup("staying@example.com").await;
    let cat = app.create_category(&user, "Mine").await;
    app.create_task(&user, json!({"title": "a", "category_id": cat["id"]}))
        .await;
    let kept = app.create_task(&stays, json!({"title": "kept"})).await;
    let res = app
        .as_user(&user, Method::DELETE, "/api/auth/me")
        .json(&json!({"password": common::PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let uid = user.id.as_str();
    assert!(app.store.account_by_id(uid).await.unwrap().is_none());
    let query = taskapi::domain::task::TaskQuery::default();
    let (tasks, total, _) = app.store.list_tasks(uid, &query).await.unwrap();
    assert!(tasks.is_empty() && total == 0, "tasks removed");
    assert!(
        app.store.list_categories(uid).await.unwrap().0.is_empty(),
        "categories removed"
    );
    let (tasks, _) = list(app, &stays, "").await;
    assert_eq!(tasks, vec![kept]);
}

/// Rows written around the API (an import, a hand-written fix) meet the same bounds in the
/// database: a title of 1 to 255 characters, a description of at most 2 000 or none, a priority of
/// 0 to 2 and, on PostgreSQL, lower-cased emails.
async fn the_database_keeps_the_field_rules(app: &TestApp) {
    let user = app.signup("rules@example.com").await;
    let task = app
        .create_task(&user, json!({"title": "kept", "description": "d"}))
        .await;
    let id = task["id"].as_str().unwrap();
    let mut refused = vec![format!("UPDATE tasks SET priority = 3 WHERE id = '{id}'")];
    let mut allowed = vec![format!("UPDATE tasks SET priority = 2 WHERE id = '{id}'")];
    if app.backend == Backend::Postgres {
        refused.extend([
            format!("UPDATE tasks SET title = '' WHERE id = '{id}'"),
            format!("UPDATE tasks SET title = repeat('x', 256) WHERE id = '{id}'"),
            format!("UPDATE tasks SET description = repeat('d', 2001) WHERE id = '{id}'"),
            format!("UPDATE users SET email = 'Rules@example.com' WHERE id = '{}'", user.id),
        ]);
        allowed.extend([
            format!("UPDATE tasks SET title = repeat('é', 255), description = NULL WHERE id = '{id}'"),
            format!("UPDATE tasks SET description = repeat('d', 2000) WHERE id = '{id}'"),
        ]);
    }
    let mut db = app.direct_db().await;
    for sql in refused {
        let err = db.execute(&sql).await.expect_err(&sql);
        assert!(
            err.to_string().contains("CHECK") || err.to_string().contains("check"),
            "{sql}: {err}"
        );
    }
    for sql in allowed {
        assert_eq!(db.execute(&sql).await.expect(&sql), 1, "{sql}");
    }
    let res = app
        .as_user(&user, Method::GET, &format!("{}/{id}", tasks_path(&user)))
        .send()
        .await
        .unwrap();
    let (status, stored) = status_json(res).await;
    assert_eq!(status, 200);
    assert_eq!(stored["priority"], "high");
    if app.backend == Backend::Postgres {
        assert_eq!(stored["title"].as_str().unwrap().chars().count(), 255);
        assert_eq!(stored["description"].as_str().unwrap().len(), 2000);
    }
}
