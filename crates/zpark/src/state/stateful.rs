use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures::future::BoxFuture;
use futures::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

/// One step of a stateful operator: from an input item and the state so far, the output item
/// and the state for the next step (the old one back when the step failed).
pub trait StateStep<In> {
    /// The state carried between steps.
    type State: Send + 'static;
    /// What the stream yields.
    type Out: Send + 'static;
    /// Starts the step; the future runs while the stream is polled.
    fn step(&mut self, input: In, state: Option<Self::State>) -> BoxFuture<'static, (Self::Out, Option<Self::State>)>;
}

pin_project! {
    /// A stream that runs a [`StateStep`] for each input item, one after the other.
    #[must_use = "streams do nothing unless polled"]
    pub struct Stateful<S, P: StateStep<S::Item>, > where S: Stream {
        #[pin]
        input: S,
        step: P,
        state: Option<P::State>,
        running: Option<BoxFuture<'static, (P::Out, Option<P::State>)>>,
        done: bool,
    }
}

impl<S: Stream, P: StateStep<S::Item>> Stateful<S, P> {
    pub(crate) fn new(input: S, step: P) -> Self {
        Stateful {
            input,
            step,
            state: None,
            running: None,
            done: false,
        }
    }
}

impl<S: Stream, P: StateStep<S::Item>> Stream for Stateful<S, P> {
    type Item = P::Out;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<P::Out>> {
        let mut this = self.project();
        loop {
            // The step under way: its output, and the state it leaves.
            if let Some(running) = this.running.as_mut() {
                let (out, state) = ready!(running.as_mut().poll(cx));
                *this.running = None;
                *this.state = state;
                return Poll::Ready(Some(out));
            }
            if *this.done {
                return Poll::Ready(None);
            }
            match ready!(this.input.as_mut().poll_next(cx)) {
                Some(item) => *this.running = Some(this.step.step(item, this.state.take())),
                None => *this.done = true,
            }
        }
    }
}

impl<S: Stream, P: StateStep<S::Item>> FusedStream for Stateful<S, P> {
    fn is_terminated(&self) -> bool {
        self.done && self.running.is_none()
    }
}

impl<S: Stream, P: StateStep<S::Item>> std::fmt::Debug for Stateful<S, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stateful")
            .field("has_state", &self.state.is_some())
            .field("done", &self.done)
            .finish()
    }
}
