//! Recurring tasks (SPEC §10) through the API on both backends, pinned with exact UTC instants.
//!
//! Due dates lie in the future (2027 on), so that "the first occurrence after both the due date
//! and now" is the one after the due date; the overdue and `basis: completion` cases compute
//! what they expect from the moment the server completed the task.

mod common;

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use common::{assert_validation, join_all, status_json, task_url, TestApp, TestUser};
use reqwest::Method;
use serde_json::{json, Value};

backend_tests!(
    completing_moves_the_due_date,
    daily_in_berlin_keeps_nine_oclock_across_dst,
    month_ends_and_ordinals,
    overdue_task_skips_missed_occurrences,
    completion_basis_restarts_on_the_day_done,
    count_counts_down_then_completes,
    until_reached_completes,
    put_and_patch_completion_follow_the_rule,
    recurrence_rules_and_their_422s,
    concurrent_toggles_move_a_recurring_task_once_each,
);

async fn recurring(app: &TestApp, user: &TestUser, due: &str, rule: &str, basis: &str, tz: &str) -> Value {
    app.create_task(
        user,
        json!({"title": rule, "due_date": due, "recurrence": {"rule": rule, "basis": basis, "timezone": tz}}),
    )
    .await
}

async fn toggle(app: &TestApp, user: &TestUser, task: &Value) -> Value {
    let (status, body) = app
        .call(user, Method::PATCH, &format!("{}/complete", task_url(user, task)), None)
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Toggles `task` and asserts it stayed open with the given next due date.
async fn moves_to(app: &TestApp, user: &TestUser, task: &Value, want: &str) -> Value {
    let moved = toggle(app, user, task).await;
    assert_eq!(
        moved["due_date"], want,
        "{} from {}",
        task["recurrence"]["rule"], task["due_date"]
    );
    assert_eq!(
        (moved["completed"].clone(), moved["completed_at"].clone()),
        (json!(false), Value::Null)
    );
    moved
}

fn instant(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

async fn completing_moves_the_due_date(app: &TestApp) {
    let user = app.signup("rec-basic@example.com").await;
    let weekly = recurring(
        app,
        &user,
        "2027-03-01T10:00:00Z",
        "RRULE:freq=weekly;byday=mo,we",
        "due",
        "UTC",
    )
    .await;
    assert_eq!(
        weekly["recurrence"],
        json!({"rule": "FREQ=WEEKLY;BYDAY=MO,WE", "basis": "due", "timezone": "UTC"})
    );
    // Monday → Wednesday → next Monday.
    let moved = moves_to(app, &user, &weekly, "2027-03-03T10:00:00.000000Z").await;
    assert_ne!(moved["updated_at"], weekly["updated_at"]);
    moves_to(app, &user, &moved, "2027-03-08T10:00:00.000000Z").await;
    // What the toggle answered is what is stored.
    let (_, stored) = app.call(&user, Method::GET, &task_url(&user, &weekly), None).await;
    assert_eq!(stored["due_date"], "2027-03-08T10:00:00.000000Z");
    let yearly = recurring(app, &user, "2028-02-29T12:00:00Z", "FREQ=YEARLY", "due", "UTC").await;
    moves_to(app, &user, &yearly, "2032-02-29T12:00:00.000000Z").await;
}

async fn daily_in_berlin_keeps_nine_oclock_across_dst(app: &TestApp) {
    let user = app.signup("rec-dst@example.com").await;
    // 09:00 CET = 08:00Z; after the change on 2027-03-28, 09:00 CEST = 07:00Z.
    let spring = recurring(app, &user, "2027-03-27T08:00:00Z", "FREQ=DAILY", "due", "Europe/Berlin").await;
    let moved = moves_to(app, &user, &spring, "2027-03-28T07:00:00.000000Z").await;
    moves_to(app, &user, &moved, "2027-03-29T07:00:00.000000Z").await;
    // Back on 2027-10-31: 07:00Z → 08:00Z.
    let autumn = recurring(app, &user, "2027-10-30T07:00:00Z", "FREQ=DAILY", "due", "Europe/Berlin").await;
    moves_to(app, &user, &autumn, "2027-10-31T08:00:00.000000Z").await;
}

async fn month_ends_and_ordinals(app: &TestApp) {
    let user = app.signup("rec-month@example.com").await;
    let monthly = recurring(app, &user, "2027-01-31T12:00:00Z", "FREQ=MONTHLY", "due", "UTC").await;
    moves_to(app, &user, &monthly, "2027-03-31T12:00:00.000000Z").await;
    let last_day = recurring(
        app,
        &user,
        "2027-01-31T12:00:00Z",
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        "due",
        "UTC",
    )
    .await;
    let moved = moves_to(app, &user, &last_day, "2027-02-28T12:00:00.000000Z").await;
    moves_to(app, &user, &moved, "2027-03-31T12:00:00.000000Z").await;
    let last_friday = recurring(
        app,
        &user,
        "2027-01-29T17:00:00Z",
        "FREQ=MONTHLY;BYDAY=-1FR",
        "due",
        "UTC",
    )
    .await;
    moves_to(app, &user, &last_friday, "2027-02-26T17:00:00.000000Z").await;
}

async fn overdue_task_skips_missed_occurrences(app: &TestApp) {
    let user = app.signup("rec-overdue@example.com").await;
    let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
    let due = Utc.from_utc_datetime(&(Utc::now() - Duration::days(3)).date_naive().and_time(nine));
    let task = recurring(app, &user, &rfc(due), "FREQ=DAILY", "due", "UTC").await;
    let moved = toggle(app, &user, &task).await;
    let done_at = instant(&moved["updated_at"]);
    let today_nine = Utc.from_utc_datetime(&done_at.date_naive().and_time(nine));
    let want = if today_nine > done_at {
        today_nine
    } else {
        today_nine + Duration::days(1)
    };
    assert_eq!(moved["due_date"], rfc(want), "the first 09:00 after now, cadence kept");
    assert_eq!(moved["completed"], false);
}

async fn completion_basis_restarts_on_the_day_done(app: &TestApp) {
    let user = app.signup("rec-completion@example.com").await;
    // Due long ago at 18:30 New York time; every 3 days from when it is done.
    let task = recurring(
        app,
        &user,
        "2026-01-10T23:30:00Z",
        "FREQ=DAILY;INTERVAL=3",
        "completion",
        "America/New_York",
    )
    .await;
    let moved = toggle(app, &user, &task).await;
    let tz = chrono_tz::America::New_York;
    let done_day = instant(&moved["updated_at"]).with_timezone(&tz).date_naive();
    let want_local = (done_day + Duration::days(3)).and_hms_opt(18, 30, 0).unwrap();
    let want = tz
        .from_local_datetime(&want_local)
        .single()
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(moved["due_date"], rfc(want));
    assert_eq!(moved["recurrence"]["basis"], "completion");
}

async fn count_counts_down_then_completes(app: &TestApp) {
    let user = app.signup("rec-count@example.com").await;
    let task = recurring(app, &user, "2027-05-01T09:00:00Z", "FREQ=DAILY;COUNT=2", "due", "UTC").await;
    let moved = moves_to(app, &user, &task, "2027-05-02T09:00:00.000000Z").await;
    assert_eq!(moved["recurrence"]["rule"], "FREQ=DAILY;COUNT=1");
    let done = toggle(app, &user, &moved).await;
    assert_eq!(done["completed"], true, "no occurrence left: completed as usual");
    assert!(done["completed_at"].is_string());
    assert_eq!(done["due_date"], "2027-05-02T09:00:00.000000Z");
    // Toggling back reopens it, with the same due date.
    let reopened = toggle(app, &user, &done).await;
    assert_eq!(
        (reopened["completed"].clone(), reopened["due_date"].clone()),
        (json!(false), json!("2027-05-02T09:00:00.000000Z"))
    );
}

async fn until_reached_completes(app: &TestApp) {
    let user = app.signup("rec-until@example.com").await;
    let task = recurring(
        app,
        &user,
        "2027-06-01T09:00:00Z",
        "FREQ=DAILY;UNTIL=20270602T090000Z",
        "due",
        "UTC",
    )
    .await;
    let moved = moves_to(app, &user, &task, "2027-06-02T09:00:00.000000Z").await;
    let done = toggle(app, &user, &moved).await;
    assert_eq!(done["completed"], true);
    // A bare UNTIL date is the end of that day in the task's time zone, kept in UTC.
    let local = recurring(
        app,
        &user,
        "2027-06-01T07:00:00Z",
        "FREQ=DAILY;UNTIL=20270602",
        "due",
        "Europe/Berlin",
    )
    .await;
    assert_eq!(local["recurrence"]["rule"], "FREQ=DAILY;UNTIL=20270602T215959Z");
}

async fn put_and_patch_completion_follow_the_rule(app: &TestApp) {
    let user = app.signup("rec-put@example.com").await;
    let task = recurring(app, &user, "2027-04-05T08:00:00Z", "FREQ=WEEKLY", "due", "UTC").await;
    let (status, patched) = app
        .call(
            &user,
            Method::PATCH,
            &task_url(&user, &task),
            Some(json!({"completed": true})),
        )
        .await;
    assert_eq!(
        (status, patched["completed"].clone(), patched["due_date"].clone()),
        (200, json!(false), json!("2027-04-12T08:00:00.000000Z"))
    );
    let (status, put) = app
        .call(
            &user,
            Method::PUT,
            &task_url(&user, &task),
            Some(json!({"title": "weekly", "completed": true, "priority": "high"})),
        )
        .await;
    assert_eq!(status, 200, "{put}");
    assert_eq!(
        (
            put["completed"].clone(),
            put["due_date"].clone(),
            put["priority"].clone()
        ),
        (json!(false), json!("2027-04-19T08:00:00.000000Z"), json!("high"))
    );
    // Moving the due date by hand is allowed; the series continues from there.
    let (status, moved) = app
        .call(
            &user,
            Method::PATCH,
            &task_url(&user, &task),
            Some(json!({"due_date": "2027-05-01T08:00:00Z"})),
        )
        .await;
    assert_eq!(
        (status, moved["due_date"].clone()),
        (200, json!("2027-05-01T08:00:00.000000Z"))
    );
    // Clearing the recurrence makes it an ordinary task again.
    let (status, plain) = app
        .call(
            &user,
            Method::PATCH,
            &task_url(&user, &task),
            Some(json!({"recurrence": null})),
        )
        .await;
    assert_eq!((status, plain["recurrence"].clone()), (200, Value::Null));
    let done = toggle(app, &user, &plain).await;
    assert_eq!(done["completed"], true);
    // Making an ordinary task recur.
    let (status, again) = app
        .call(
            &user,
            Method::PATCH,
            &task_url(&user, &task),
            Some(json!({"completed": false, "recurrence": {"rule": "FREQ=DAILY"}})),
        )
        .await;
    assert_eq!(
        (
            status,
            again["recurrence"]["timezone"].clone(),
            again["recurrence"]["basis"].clone()
        ),
        (200, json!("UTC"), json!("due"))
    );
}

async fn recurrence_rules_and_their_422s(app: &TestApp) {
    let user = app.signup("rec-422@example.com").await;
    let url = format!("/api/{}/tasks", user.id);
    let due = "2027-01-01T09:00:00Z";
    for (rule, loc) in [
        ("FREQ=HOURLY", "rule"),
        ("FREQ=DAILY;BYHOUR=9", "rule"),
        ("FREQ=WEEKLY;BYDAY=1MO", "rule"),
        ("BYDAY=MO", "rule"),
        ("FREQ=DAILY;COUNT=1;UNTIL=20270101T000000Z", "rule"),
        ("not a rule", "rule"),
        ("FREQ=MONTHLY;BYMONTHDAY=0", "rule"),
        ("FREQ=MONTHLY;BYSETPOS=1", "rule"),
        // Rules that pass the grammar and never occur.
        ("FREQ=DAILY;BYMONTHDAY=31;BYMONTH=4", "rule"),
        ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", "rule"),
    ] {
        let (status, body) = app
            .call(
                &user,
                Method::POST,
                &url,
                Some(json!({"title": "t", "due_date": due, "recurrence": {"rule": rule}})),
            )
            .await;
        assert_validation(status, &body, &["body", "recurrence", loc]);
    }
    let (status, body) = app.call(&user,
        Method::POST,
        &url,
        Some(
            json!({"title": "t", "due_date": due, "recurrence": {"rule": "FREQ=DAILY", "timezone": "Europe/Atlantis"}}),
        ),
    )
    .await;
    assert_validation(status, &body, &["body", "recurrence", "timezone"]);
    let (status, body) = app
        .call(
            &user,
            Method::POST,
            &url,
            Some(json!({"title": "t", "recurrence": {"rule": "FREQ=DAILY"}})),
        )
        .await;
    assert_validation(status, &body, &["body", "recurrence"]);
    let (status, body) = app
        .call(
            &user,
            Method::POST,
            &url,
            Some(json!({"title": "t", "due_date": due, "recurrence": "FREQ=DAILY"})),
        )
        .await;
    assert_validation(status, &body, &["body", "recurrence"]);
    // Clearing the due date of a recurring task.
    let task = recurring(app, &user, due, "FREQ=DAILY", "due", "UTC").await;
    // A rule that never occurs is refused on PATCH and PUT too, and nothing changes.
    for method in [Method::PATCH, Method::PUT] {
        let (status, body) = app
            .call(
                &user,
                method.clone(),
                &task_url(&user, &task),
                Some(json!({"title": "t", "recurrence": {"rule": "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6"}})),
            )
            .await;
        assert_validation(status, &body, &["body", "recurrence", "rule"]);
        assert_eq!(body["detail"][0]["msg"], "This rule never occurs", "{method}");
    }
    let (_, unchanged) = app.call(&user, Method::GET, &task_url(&user, &task), None).await;
    assert_eq!(unchanged, task);
    let (status, body) = app
        .call(
            &user,
            Method::PATCH,
            &task_url(&user, &task),
            Some(json!({"due_date": null})),
        )
        .await;
    assert_validation(status, &body, &["body", "recurrence"]);
    let (status, body) = app
        .call(
            &user,
            Method::PATCH,
            &task_url(&user, &task),
            Some(json!({"recurrence": {"rule": "FREQ=SECONDLY"}})),
        )
        .await;
    assert_validation(status, &body, &["body", "recurrence", "rule"]);
    // Nothing was written.
    let (_, stored) = app.call(&user, Method::GET, &task_url(&user, &task), None).await;
    assert_eq!(
        (stored["due_date"].clone(), stored["recurrence"]["rule"].clone()),
        (json!("2027-01-01T09:00:00.000000Z"), json!("FREQ=DAILY"))
    );
    let (_, list) = app.call(&user, Method::GET, &url, None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

async fn concurrent_toggles_move_a_recurring_task_once_each(app: &TestApp) {
    let user = app.signup("rec-race@example.com").await;
    let task = recurring(app, &user, "2027-01-01T09:00:00Z", "FREQ=DAILY", "due", "UTC").await;
    let url = format!("{}/complete", task_url(&user, &task));
    let futures = (0..10).map(|_| {
        let req = app.as_user(&user, Method::PATCH, &url);
        async move { status_json(req.send().await.unwrap()).await }
    });
    let answers = join_all(futures).await;
    assert!(answers.iter().all(|(s, _)| *s == 200), "{answers:?}");
    let mut dues: Vec<String> = answers
        .iter()
        .map(|(_, b)| b["due_date"].as_str().unwrap().to_owned())
        .collect();
    dues.sort();
    dues.dedup();
    assert_eq!(dues.len(), 10, "each toggle saw the one before it: {dues:?}");
    let (_, stored) = app.call(&user, Method::GET, &task_url(&user, &task), None).await;
    assert_eq!(stored["due_date"], "2027-01-11T09:00:00.000000Z");
    assert_eq!(stored["completed"], false);
}

mod keyed {
    //! A retried toggle of a recurring task moves it once; a stale `If-Match` moves it not at all.
    use super::*;

    backend_tests!(retried_and_conditional_toggles_of_a_recurring_task);

    async fn retried_and_conditional_toggles_of_a_recurring_task(app: &TestApp) {
        let user = app.signup("rec-keyed@example.com").await;
        let task = recurring(app, &user, "2027-02-01T09:00:00Z", "FREQ=DAILY", "due", "UTC").await;
        let url = format!("{}/complete", task_url(&user, &task));
        let keyed = || {
            app.as_user(&user, Method::PATCH, &url)
                .header("Idempotency-Key", "move-once")
        };
        let first = keyed().send().await.unwrap();
        assert!(first.headers().get("idempotent-replayed").is_none());
        let first_body: Value = first.json().await.unwrap();
        let again = keyed().send().await.unwrap();
        assert_eq!(again.headers()["idempotent-replayed"], "true");
        let again_body: Value = again.json().await.unwrap();
        assert_eq!(again_body, first_body);
        assert_eq!(first_body["due_date"], "2027-02-02T09:00:00.000000Z");
        let stale = app
            .as_user(&user, Method::PATCH, &url)
            .header("If-Match", "\"1\"")
            .send()
            .await
            .unwrap();
        assert_eq!(stale.status(), 412);
        let (_, stored) = app.call(&user, Method::GET, &task_url(&user, &task), None).await;
        assert_eq!(stored["due_date"], "2027-02-02T09:00:00.000000Z");
        // A stale If-Match on a write that goes through the stored state is refused too.
        let res = app
            .as_user(&user, Method::PATCH, &task_url(&user, &task))
            .header("If-Match", "\"1\"")
            .json(&json!({"tags": ["late"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 412);
        let (_, stored) = app.call(&user, Method::GET, &task_url(&user, &task), None).await;
        assert_eq!(stored["tags"], json!([]));
    }
}
