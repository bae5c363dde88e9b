//! `zpark run --ui`: the live page in a real browser (headless Chromium, which
//! `scripts/test.sh` installs from Debian's packages). The page of a running `zpark run` is
//! opened once three slices are out; the numbers it draws must be the run's JSON output's. A
//! screenshot is kept as a test artifact (`target/ui-screenshot.png`). `#[ignore]`d: it needs
//! `chromium`; `scripts/test.sh` runs it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod common;

use common::append;

/// Reads the child's stdout and stderr lines on threads of their own.
fn lines_of(child: &mut Child) -> (mpsc::Receiver<String>, mpsc::Receiver<String>) {
    let spawn = |reader: Box<dyn std::io::Read + Send>| {
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(reader).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    return;
                }
            }
        });
        receiver
    };
    let out = spawn(Box::new(child.stdout.take().expect("stdout")));
    let err = spawn(Box::new(child.stderr.take().expect("stderr")));
    (out, err)
}

/// Chromium run headless on `url` with `args`, the page given 3 s to draw.
fn chromium(url: &str, args: &[&str]) -> std::process::Output {
    Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--timeout=3000",
            "--window-size=1200,800",
        ])
        .args(args)
        .arg(url)
        .output()
        .expect("chromium (scripts/test.sh installs it: apt-get install chromium)")
}

/// The values of attribute `name` and the text of each element of `html` with `class`.
fn drawn(html: &str, class: &str, name: &str) -> Vec<(String, String)> {
    let marker = format!("class=\"{class}\"");
    html.match_indices(&marker)
        .filter_map(|(at, _)| {
            let element = &html[html[..at].rfind('<')?..];
            let end = element.find('>')?;
            let attribute = element[..end].split(&format!("{name}=\"")).nth(1)?.split('"').next()?;
            let text = element[end + 1..].split('<').next()?;
            Some((attribute.to_string(), text.to_string()))
        })
        .collect()
}

#[test]
#[ignore = "needs chromium: scripts/test.sh installs it and runs this test"]
fn the_page_of_a_running_pipeline_draws_what_the_run_writes() {
    let dir = common::scratch("ui", "page");
    let log = dir.join("app.log");
    append(&log, "");
    let mut run = Command::new(env!("CARGO_BIN_EXE_zpark"))
        .current_dir(&dir)
        .args([
            "run",
            "--follow",
            "app.log",
            "--field",
            "1",
            "--every",
            "300ms",
            "--ui",
            "127.0.0.1:0",
            "--output",
            "json",
            "count-by-value",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("zpark run");
    let (out, err) = lines_of(&mut run);
    let url = err
        .recv_timeout(Duration::from_secs(20))
        .expect("the run says where its page is");
    let url = url.split("is on ").nth(1).expect("the page's URL").trim().to_string();
    // Three bursts of lines, a slice apart: "user0" the most frequent in each.
    let mut results: Vec<serde_json::Value> = Vec::new();
    for burst in 1..=4u64 {
        let lines: String = (0..burst * 30)
            .map(|i| format!("user{} x\n", i % 4 % (1 + i % 3)))
            .collect();
        append(&log, &lines);
        std::thread::sleep(Duration::from_millis(400));
    }
    let began = Instant::now();
    let slices_with_results = |results: &[serde_json::Value]| {
        let mut slices: Vec<u64> = results.iter().filter_map(|r| r["slice"].as_u64()).collect();
        slices.dedup();
        slices.len()
    };
    while slices_with_results(&results) < 3 && began.elapsed() < Duration::from_secs(20) {
        if let Ok(line) = out.recv_timeout(Duration::from_millis(200)) {
            results.push(serde_json::from_str(&line).expect("a JSON result"));
        }
    }
    results.extend(
        out.try_iter()
            .map(|line| serde_json::from_str(&line).expect("a JSON result")),
    );
    assert!(
        slices_with_results(&results) >= 3,
        "three slices with results: {results:?}"
    );

    let page = chromium(&url, &["--dump-dom"]);
    let html = String::from_utf8_lossy(&page.stdout).into_owned();
    // The top values drawn are the counts the run wrote for that slice.
    let slice: u64 = html
        .split("id=\"top\"")
        .nth(1)
        .and_then(|rest| rest.split("data-slice=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the page names the slice of its bars: {html}"));
    let bars = drawn(&html, "count", "data-value");
    assert!(!bars.is_empty(), "bars drawn: {html}");
    for (value, count) in &bars {
        let written = results
            .iter()
            .find(|r| r["slice"].as_u64() == Some(slice) && r["value"].as_str() == Some(value))
            .unwrap_or_else(|| panic!("slice {slice}'s {value} in the run's output: {results:?}"));
        assert_eq!(
            written["count"].as_u64().map(|n| n.to_string()).as_deref(),
            Some(count.as_str())
        );
    }
    // The records per slice drawn are the sums of the run's counts.
    let records = drawn(&html, "value", "data-index");
    assert!(records.len() >= 3, "a bar per slice: {html}");
    for (index, drawn_records) in &records {
        let slice = index.parse::<u64>().expect("an index") + 1;
        let written: u64 = results
            .iter()
            .filter(|r| r["slice"].as_u64() == Some(slice))
            .filter_map(|r| r["count"].as_u64())
            .sum();
        if results.iter().any(|r| r["slice"].as_u64() > Some(slice)) {
            assert_eq!(drawn_records, &written.to_string(), "slice {slice}");
        }
    }
    let screenshot = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/ui-screenshot.png");
    let shot = chromium(&url, &[&format!("--screenshot={}", screenshot.display())]);
    assert!(screenshot.is_file(), "{}", String::from_utf8_lossy(&shot.stderr));
    let _ = Command::new("kill").args(["-TERM", &run.id().to_string()]).status();
    let _ = run.wait();
}
