//! A live page of a running pipeline (the `ui` feature): records per slice, processing time
//! and scheduling delay per slice, and the latest slice's top values as bars, drawn in the
//! browser as slices complete (Server-Sent Events). The page and its charting script ship in
//! the binary; the server serves nothing but the page (`/`) and its stream (`/events`).
//!
//! ```no_run
//! use futures::StreamExt;
//! use zpark::prelude::*;
//! use zpark::ui::{serve, UiEvent};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> zpark::Result<()> {
//! let engine = Engine::local(2);
//! let mut counts = zpark::source::naturals_every(std::time::Duration::from_millis(10))
//!     .map(|n| n % 10)
//!     .discretize_keep_time(&engine, std::time::Duration::from_secs(1))
//!     .count_rdd_by_value()
//!     .continuize();
//! let page = serve("127.0.0.1:8080".parse().unwrap(), counts.metrics().map(|m| UiEvent::from(&m))).await?;
//! println!("open http://{}", page.address());
//! while counts.next().await.is_some() {}
//! # Ok(()) }
//! ```

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use futures::{Stream, StreamExt};
use serde::Serialize;
use tokio::sync::broadcast;

use crate::error::{Error, Result};
use crate::slice_ops::SliceMetrics;

const PAGE: &str = include_str!("page.html");

/// The slices a page that opens late still gets.
const HISTORY: usize = 1000;

/// One slice as the page draws it.
///
/// # Examples
///
/// ```
/// let event = zpark::ui::UiEvent { slice: 3, records: 12, top: vec![("GET".into(), 9)], ..Default::default() };
/// assert_eq!(event.top[0].1, 9);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UiEvent {
    /// The slice's number.
    pub slice: u64,
    /// When it ended, in seconds (since the stream started, or in event time).
    pub end: f64,
    /// Records in the slice.
    pub records: u64,
    /// Its processing time, in milliseconds.
    pub processing_ms: f64,
    /// Its scheduling delay (how late it reached its processing), in milliseconds.
    pub scheduling_delay_ms: f64,
    /// Its largest results, drawn as bars: `(value, count)`, largest first.
    pub top: Vec<(String, u64)>,
}

impl From<&SliceMetrics> for UiEvent {
    fn from(metrics: &SliceMetrics) -> UiEvent {
        UiEvent {
            slice: metrics.slice,
            end: metrics.time.map_or(0.0, |t| t.as_duration().as_secs_f64()),
            records: metrics.records,
            processing_ms: metrics.processing.as_secs_f64() * 1e3,
            scheduling_delay_ms: metrics.scheduling_delay.as_secs_f64() * 1e3,
            top: Vec::new(),
        }
    }
}

/// The page being served: where, until dropped (then the server stops).
#[derive(Debug)]
pub struct Ui {
    address: SocketAddr,
    server: tokio::task::JoinHandle<()>,
    feeder: tokio::task::JoinHandle<()>,
}

impl Ui {
    /// The address the page is served on (the port chosen, for port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        self.server.abort();
        self.feeder.abort();
    }
}

/// The events so far, and the live ones.
struct Shared {
    history: Mutex<Vec<String>>,
    live: broadcast::Sender<String>,
}

/// Serves the page of `events` on `address` (on the current tokio runtime) until the
/// returned [`Ui`] is dropped. Bind it to 127.0.0.1 (the page has no authentication).
///
/// # Errors
///
/// [`Error::Io`] naming the address when it cannot be bound (in use, not local).
pub async fn serve<S>(address: SocketAddr, events: S) -> Result<Ui>
where
    S: Stream<Item = UiEvent> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|error| Error::io(format!("--ui {address}"), error))?;
    let address = listener
        .local_addr()
        .map_err(|error| Error::io(format!("--ui {address}"), error))?;
    let (live, _) = broadcast::channel(HISTORY);
    let shared = Arc::new(Shared {
        history: Mutex::new(Vec::new()),
        live,
    });
    let feeding = Arc::clone(&shared);
    let feeder = tokio::spawn(async move {
        let mut events = std::pin::pin!(events);
        while let Some(event) = events.next().await {
            let Ok(json) = serde_json::to_string(&event) else {
                continue;
            };
            let mut history = feeding.history.lock().unwrap_or_else(|p| p.into_inner());
            if history.len() == HISTORY {
                history.remove(0);
            }
            history.push(json.clone());
            // No page open: nobody to tell.
            let _ = feeding.live.send(json);
        }
    });
    let app = Router::new()
        .route("/", get(page))
        .route("/events", get(stream))
        .with_state(shared);
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Ui {
        address,
        server,
        feeder,
    })
}

/// The page, with the slices so far in it: drawn as soon as it loads.
async fn page(State(shared): State<Arc<Shared>>) -> Html<String> {
    let history = shared.history.lock().unwrap_or_else(|p| p.into_inner()).join(",");
    // The events are JSON of numbers and strings: `</script>` in a value would end the script.
    let history = history.replace("</", "<\\/");
    Html(PAGE.replace("/*HISTORY*/[]", &format!("[{history}]")))
}

/// The page's stream: every event so far, then each new one.
async fn stream(State(shared): State<Arc<Shared>>) -> Sse<impl Stream<Item = std::result::Result<Event, Infallible>>> {
    let receiver = shared.live.subscribe();
    let history = shared.history.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let live = futures::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(json) => return Some((json, receiver)),
                // A page too slow for the stream skips what it missed.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let events = futures::stream::iter(history)
        .chain(live)
        .map(|json| Ok(Event::default().data(json)));
    Sse::new(events).keep_alive(KeepAlive::default())
}
