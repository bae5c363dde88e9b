//! What a pipeline does with a bad record or a broken input: fail, or skip and count.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};

use futures::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use crate::error::{Error, Result};

/// The policy for `Err` items of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Stop reading at the first error; the error is kept in the [`InputReport`], which the
    /// pipeline's owner checks at the end (`report.finish()`). What came before it is processed.
    #[default]
    Fail,
    /// Skip the bad item, count it, and go on; the count (and the first few errors) are in the
    /// [`InputReport`].
    Skip,
}

/// How many rejected items an [`InputReport`] keeps for its summary.
const KEPT_ERRORS: usize = 5;

#[derive(Debug, Default)]
struct ReportState {
    accepted: u64,
    rejected: u64,
    first_errors: Vec<Error>,
    failure: Option<Error>,
}

/// What an input policy saw: items accepted and rejected, the first errors, and the failure
/// that stopped the input (under [`OnError::Fail`]). Clones share the same report.
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// use zpark::prelude::*;
/// # futures::executor::block_on(async {
/// let report = zpark::source::InputReport::new();
/// let items = futures::stream::iter(vec![Ok(1), Err(Error::Internal("bad".into())), Ok(2)]);
/// let good: Vec<i32> = items.on_error(OnError::Skip, &report).collect().await;
/// assert_eq!(good, vec![1, 2]);
/// assert_eq!((report.accepted(), report.rejected()), (2, 1));
/// assert!(report.finish().is_ok());
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct InputReport {
    state: Arc<Mutex<ReportState>>,
}

impl InputReport {
    /// An empty report.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zpark::source::InputReport::new().rejected(), 0);
    /// ```
    pub fn new() -> InputReport {
        InputReport::default()
    }

    fn with<R>(&self, f: impl FnOnce(&mut ReportState) -> R) -> R {
        // A poisoned lock only means a panic elsewhere while counting: the counts are still good.
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut state)
    }

    /// Items let through.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zpark::source::InputReport::new().accepted(), 0);
    /// ```
    pub fn accepted(&self) -> u64 {
        self.with(|s| s.accepted)
    }

    /// Items skipped under [`OnError::Skip`].
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zpark::source::InputReport::new().rejected(), 0);
    /// ```
    pub fn rejected(&self) -> u64 {
        self.with(|s| s.rejected)
    }

    /// The first few errors skipped (at most five), for a summary.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(zpark::source::InputReport::new().first_errors().is_empty());
    /// ```
    pub fn first_errors(&self) -> Vec<Error> {
        self.with(|s| s.first_errors.clone())
    }

    /// `Err` with the error that stopped the input under [`OnError::Fail`], `Ok` otherwise.
    ///
    /// # Errors
    ///
    /// The error that stopped the input.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(zpark::source::InputReport::new().finish().is_ok());
    /// ```
    pub fn finish(&self) -> Result<()> {
        self.with(|s| s.failure.clone().map_or(Ok(()), Err))
    }

    /// Records what a batch of items parsed elsewhere (on the engine's workers, a block of
    /// lines at a time) did: `accepted` items let through, `rejected` ones skipped under
    /// [`OnError::Skip`] (with the first few errors), and the error that stopped the input
    /// under [`OnError::Fail`], if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use zpark::Error;
    /// let report = zpark::source::InputReport::new();
    /// report.add(10, 2, vec![Error::Internal("bad".into())], None);
    /// assert_eq!((report.accepted(), report.rejected(), report.first_errors().len()), (10, 2, 1));
    /// report.add(0, 0, Vec::new(), Some(Error::Internal("stop".into())));
    /// assert!(report.finish().is_err());
    /// ```
    pub fn add(&self, accepted: u64, rejected: u64, errors: Vec<Error>, failure: Option<Error>) {
        self.with(|s| {
            s.accepted += accepted;
            s.rejected += rejected;
            let room = KEPT_ERRORS.saturating_sub(s.first_errors.len());
            s.first_errors.extend(errors.into_iter().take(room));
            if s.failure.is_none() {
                s.failure = failure;
            }
        });
    }

    fn accept(&self) {
        self.with(|s| s.accepted += 1);
    }

    fn reject(&self, error: Error) {
        self.with(|s| {
            s.rejected += 1;
            if s.first_errors.len() < KEPT_ERRORS {
                s.first_errors.push(error);
            }
        });
    }

    fn fail(&self, error: Error) {
        self.with(|s| s.failure = Some(error));
    }
}

/// The policy adapter for every stream of `Result<T, zpark::Error>`.
pub trait TryStreamZparkExt<T>: Stream<Item = Result<T>> + Sized {
    /// Makes a `Stream<T>` for the slicers, applying `policy` to the `Err` items and recording
    /// what happened in `report`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    /// use zpark::prelude::*;
    /// # futures::executor::block_on(async {
    /// let report = zpark::source::InputReport::new();
    /// let items = futures::stream::iter(vec![Ok(1), Err(Error::Internal("bad".into())), Ok(2)]);
    /// let good: Vec<i32> = items.on_error(OnError::Fail, &report).collect().await;
    /// assert_eq!(good, vec![1]);
    /// assert!(report.finish().is_err());
    /// # });
    /// ```
    fn on_error(self, policy: OnError, report: &InputReport) -> OnErrorStream<Self> {
        OnErrorStream {
            input: self,
            policy,
            report: report.clone(),
            done: false,
        }
    }
}

impl<T, S: Stream<Item = Result<T>>> TryStreamZparkExt<T> for S {}

pin_project! {
    /// The stream of [`on_error`](TryStreamZparkExt::on_error).
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct OnErrorStream<S> {
        #[pin]
        input: S,
        policy: OnError,
        report: InputReport,
        done: bool,
    }
}

impl<T, S: Stream<Item = Result<T>>> Stream for OnErrorStream<S> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut this = self.project();
        while !*this.done {
            match ready!(this.input.as_mut().poll_next(cx)) {
                Some(Ok(item)) => {
                    this.report.accept();
                    return Poll::Ready(Some(item));
                }
                Some(Err(error)) if *this.policy == OnError::Skip => this.report.reject(error),
                Some(Err(error)) => {
                    this.report.fail(error);
                    *this.done = true;
                }
                None => *this.done = true,
            }
        }
        Poll::Ready(None)
    }
}

impl<T, S: Stream<Item = Result<T>>> FusedStream for OnErrorStream<S> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}
