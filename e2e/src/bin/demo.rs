//! `make demo`: submits a brief to the running stack, shows live progress, then the result.
//!
//! Usage: `demo [BRIEF_JSON] [OUT_DIR]` (defaults `examples/brief.json`, `out`); `STUDIO_URL`
//! (default `http://127.0.0.1:8787`) and `STUDIO_KEY` (default the dev key `sk_test_demo`).
//! A finished render's master, variants, poster and captions are downloaded to
//! `OUT_DIR/{job}/`, each described by ffprobe, with a contact sheet of one frame per shot.

use std::io::Write;
use std::time::{Duration, Instant};

use e2e::{Client, media};
use serde_json::Value;

/// A render that has not finished by then is reported as stuck
const GIVE_UP_AFTER: Duration = Duration::from_secs(900);

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

fn progress_line(view: &Value, started: Instant) -> String {
    let p = &view["progress"];
    let total = p["total"].as_u64().unwrap_or(0).max(1);
    let done = p["done"].as_u64().unwrap_or(0);
    let width = 30;
    let filled = (done * width / total) as usize;
    format!(
        "\r  [{}{}] {:>3}/{:<3} stages  running {:>2}  failed {:>2}  {:<10} ${:>6.2}  {:>5.1}s ",
        "#".repeat(filled),
        ".".repeat(width as usize - filled),
        done,
        total,
        p["running"].as_u64().unwrap_or(0),
        p["failed"].as_u64().unwrap_or(0),
        s(&view["status"]),
        view["cost_usd"].as_f64().unwrap_or(0.0),
        started.elapsed().as_secs_f64()
    )
}

fn print_result(view: &Value) {
    println!("\n\nRender {}: {}", s(&view["job_id"]), s(&view["status"]));
    if let Some(reason) = view["failure"].as_str() {
        println!("  failure: {reason}");
    }
    // Ra's notes to the Director (pacing, splits, trade-offs); the app's view names no model.
    for n in view["notes"].as_array().into_iter().flatten() {
        println!("  {}: {}", s(&n["from"]), s(&n["text"]));
    }
    println!("\n  {:<14} {:>7} {:>7}  why", "stage", "cost", "secs");
    for stage in view["stages"].as_array().into_iter().flatten() {
        println!(
            "  {:<14} {:>7} {:>7}  {}",
            s(&stage["id"]),
            format!("${:.2}", stage["cost_usd"].as_f64().unwrap_or(0.0)),
            stage["seconds"]
                .as_f64()
                .map_or("-".into(), |x| format!("{x:.1}")),
            s(&stage["why"]),
        );
    }
    println!("\n  cost by shot:");
    for c in view["cost_by_shot"].as_array().into_iter().flatten() {
        println!(
            "    {:<6} ${:.2}",
            s(&c["shot"]),
            c["usd"].as_f64().unwrap_or(0.0)
        );
    }
    println!(
        "  total ${:.2} of ${:.2} budget",
        view["cost_usd"].as_f64().unwrap_or(0.0),
        view["budget_usd"].as_f64().unwrap_or(0.0)
    );
    println!("\n  artifacts (R2 keys):");
    for stage in view["stages"].as_array().into_iter().flatten() {
        for a in stage["artifacts"].as_array().into_iter().flatten() {
            println!(
                "    {:<60} {:>9} B  {}",
                s(&a["key"]),
                s(&a["bytes"]),
                s(&a["content_type"])
            );
        }
    }
    println!("\n  master:   {}", s(&view["master_key"]));
    for v in view["variants"].as_array().into_iter().flatten() {
        println!("  variant:  {:<5} {}", s(&v["aspect"]), s(&v["key"]));
    }
    println!("  poster:   {}", s(&view["poster_key"]));
    println!("  captions: {}", s(&view["captions_key"]));
}

/// Downloads the finished files and shows what they are
async fn save_outputs(view: &Value, brief: &Value, out: &std::path::Path) -> Result<(), String> {
    let dir = out.join(s(&view["job_id"]));
    let files = media::download_outputs(view, &dir)
        .await
        .map_err(|e| e.to_string())?;
    println!("\n  files in {}/:", dir.display());
    for f in &files {
        if f.name == "captions" {
            let cues = std::fs::read_to_string(&f.path)
                .map(|t| t.matches(" --> ").count())
                .unwrap_or(0);
            println!("    {:<14} WebVTT, {cues} cues", f.name);
            continue;
        }
        let probe = media::probe(&f.path).map_err(|e| e.to_string())?;
        println!("    {}", media::describe(&f.name, &probe));
    }
    let Some(master) = files.iter().find(|f| f.name == "master") else {
        return Err("the render has no master".into());
    };
    let mut shots = Vec::new();
    let mut start = 0.0;
    for shot in brief["shots"].as_array().into_iter().flatten() {
        let duration = shot["duration_s"].as_f64().unwrap_or(0.0);
        shots.push((s(&shot["id"]), start, duration));
        start += duration;
    }
    let sheet = dir.join("contact-sheet.png");
    media::contact_sheet(&master.path, &shots, &sheet).map_err(|e| e.to_string())?;
    println!("    {:<14} {}", "contact sheet", sheet.display());
    let loudness = media::integrated_lufs(&master.path).map_err(|e| e.to_string())?;
    println!("    master loudness {loudness:.1} LUFS integrated");
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "examples/brief.json".into());
    let base = std::env::var("STUDIO_URL").unwrap_or_else(|_| "http://127.0.0.1:8787".into());
    let out = std::path::PathBuf::from(std::env::args().nth(2).unwrap_or_else(|| "out".into()));
    let key = std::env::var("STUDIO_KEY").unwrap_or_else(|_| "sk_test_demo".into());
    let brief = match std::fs::read_to_string(&path).map(|t| serde_json::from_str::<Value>(&t)) {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return fail(&format!("{path} is not JSON: {e}")),
        Err(e) => return fail(&format!("reading {path}: {e}")),
    };
    let client = Client::new(&base, Some(&key));
    println!("Submitting {path} to {base} as {key}");
    let created = match client.post("/v1/renders", &brief).await {
        Ok(r) if r.status.as_u16() == 202 => r,
        Ok(r) => return fail(&format!("create answered {}: {}", r.status, r.text)),
        Err(e) => return fail(&format!("create: {e}")),
    };
    let id = s(&created.json["job_id"]);
    println!(
        "Render {id} accepted ({})",
        created.header("location").unwrap_or("-")
    );
    let started = Instant::now();
    let mut view = created.json;
    while started.elapsed() < GIVE_UP_AFTER {
        print!("{}", progress_line(&view, started));
        let _ = std::io::stdout().flush();
        if matches!(
            view["status"].as_str(),
            Some("succeeded" | "failed" | "cancelled")
        ) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(400)).await;
        match client.get(&format!("/v1/renders/{id}")).await {
            Ok(r) if r.status.is_success() => view = r.json,
            Ok(r) => return fail(&format!("poll answered {}: {}", r.status, r.text)),
            Err(e) => return fail(&format!("poll: {e}")),
        }
    }
    print_result(&view);
    if view["status"] != "succeeded" {
        std::process::exit(1);
    }
    if let Err(e) = save_outputs(&view, &brief, &out).await {
        fail(&format!("saving the outputs: {e}"));
    }
}

fn fail(message: &str) {
    eprintln!("demo: {message}");
    std::process::exit(1);
}
