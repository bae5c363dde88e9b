use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures::stream::Stream;
use pin_project_lite::pin_project;

use crate::error::Result;

pin_project! {
    /// Runs an async action on every slice, one after the other; stops at the first error.
    /// Made by [`foreach_rdd`](super::SliceStreamExt::foreach_rdd).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ForeachRdd<S, F, Fut> {
        #[pin]
        input: S,
        action: F,
        #[pin]
        running: Option<Fut>,
    }
}

impl<S, F, Fut> ForeachRdd<S, F, Fut> {
    pub(super) fn new(input: S, action: F) -> Self {
        ForeachRdd {
            input,
            action,
            running: None,
        }
    }
}

impl<S, F, Fut> Future for ForeachRdd<S, F, Fut>
where
    S: Stream,
    F: FnMut(S::Item) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    type Output = Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let mut this = self.project();
        loop {
            // Finish the action on the current slice first.
            if let Some(running) = this.running.as_mut().as_pin_mut() {
                let outcome = ready!(running.poll(cx));
                this.running.set(None);
                outcome?;
            }
            match ready!(this.input.as_mut().poll_next(cx)) {
                Some(slice) => this.running.set(Some((this.action)(slice))),
                None => return Poll::Ready(Ok(())),
            }
        }
    }
}

impl<S, F, Fut> std::fmt::Debug for ForeachRdd<S, F, Fut> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForeachRdd")
            .field("running", &self.running.is_some())
            .finish()
    }
}
