use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use futures::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;
use tokio::time::{interval, Interval};

/// 0, 1, 2, ... as fast as they are pulled.
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// # futures::executor::block_on(async {
/// let first: Vec<u64> = zpark::source::naturals().take(3).collect().await;
/// assert_eq!(first, vec![0, 1, 2]);
/// # });
/// ```
pub fn naturals() -> futures::stream::Iter<std::ops::RangeFrom<u64>> {
    futures::stream::iter(0..)
}

/// 0, 1, 2, ... one every `period` on tokio's clock, the first at once (the seed's
/// `naturalsEvery`). A consumer that falls behind gets the missed ticks at once, so the count
/// per unit of time is kept.
///
/// Needs a tokio runtime with the time driver when first polled.
///
/// # Panics
///
/// When `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use futures::StreamExt;
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let start = tokio::time::Instant::now();
/// let ticks: Vec<u64> = zpark::source::naturals_every(Duration::from_millis(10)).take(3).collect().await;
/// assert_eq!(ticks, vec![0, 1, 2]);
/// assert_eq!(start.elapsed(), Duration::from_millis(20));
/// # }
/// ```
#[track_caller]
pub fn naturals_every(period: Duration) -> NaturalsEvery {
    assert!(
        !period.is_zero(),
        "naturals_every: the period must be longer than zero (0 given)"
    );
    NaturalsEvery {
        period,
        ticks: None,
        next: 0,
    }
}

pin_project! {
    /// The stream of [`naturals_every`].
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct NaturalsEvery {
        period: Duration,
        ticks: Option<Interval>,
        next: u64,
    }
}

impl Stream for NaturalsEvery {
    type Item = u64;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u64>> {
        let this = self.project();
        // The clock starts at the first poll, inside the runtime.
        let ticks = this.ticks.get_or_insert_with(|| interval(*this.period));
        ready!(ticks.poll_tick(cx));
        let value = *this.next;
        *this.next += 1;
        Poll::Ready(Some(value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

impl FusedStream for NaturalsEvery {
    fn is_terminated(&self) -> bool {
        false
    }
}
