//! `--ui ADDR`: the live page of the run (zpark's `ui` feature), fed slice by slice.

use zpark::prelude::*;

use super::context::Counters;
#[cfg(feature = "ui")]
use super::partial::most_frequent;
use super::partial::Partial;
use super::slice_metrics::SliceMetrics;
use super::{Operation, RunArgs};

/// How many values the page draws as bars.
#[cfg(feature = "ui")]
const TOP: usize = 10;

/// The page being served, and what feeds it; nothing without `--ui`.
pub(super) struct LivePage {
    #[cfg(feature = "ui")]
    fed: Option<(
        futures::channel::mpsc::UnboundedSender<zpark::ui::UiEvent>,
        zpark::ui::Ui,
    )>,
}

impl LivePage {
    /// Serves the page when `--ui` asks for it, and says where.
    pub(super) async fn start(args: &RunArgs, counters: &Counters) -> anyhow::Result<LivePage> {
        #[cfg(feature = "ui")]
        {
            let Some(address) = args.ui else {
                return Ok(LivePage { fed: None });
            };
            let (sender, events) = futures::channel::mpsc::unbounded();
            let ui = zpark::ui::serve(address, events).await?;
            let url = format!("http://{}/", ui.address());
            counters
                .progress
                .suspend(|| eprintln!("zpark: the live page is on {url}"));
            Ok(LivePage {
                fed: Some((sender, ui)),
            })
        }
        #[cfg(not(feature = "ui"))]
        {
            let _ = counters;
            anyhow::ensure!(
                args.ui.is_none(),
                crate::UsageError("--ui: this zpark was built without the `ui` feature".into())
            );
            Ok(LivePage {})
        }
    }

    /// The slice's largest results, for the bars (the counts of `count-by-value`, `top` and
    /// `distinct`; the count of `count`); nothing without a page.
    pub(super) async fn top_values(&self, operation: &Operation, partial: &Rdd<Partial>) -> Vec<(String, u64)> {
        #[cfg(feature = "ui")]
        if self.fed.is_some() {
            let Ok(counts) = partial.collect().await else {
                return Vec::new();
            };
            return match operation {
                Operation::CountByValue | Operation::Top { .. } | Operation::Distinct => most_frequent(counts, TOP)
                    .into_iter()
                    .map(|(value, n)| (value.to_string(), n))
                    .collect(),
                Operation::Count => vec![("records".to_string(), counts.iter().map(|(_, n)| n).sum())],
                Operation::Sum | Operation::Min | Operation::Max => Vec::new(),
            };
        }
        let _ = (operation, partial);
        Vec::new()
    }

    /// Sends a slice to the page.
    pub(super) fn show(&self, metrics: &SliceMetrics, top: Vec<(String, u64)>) {
        #[cfg(feature = "ui")]
        if let Some((sender, _)) = &self.fed {
            // The page is gone only when the run ends.
            let _ = sender.unbounded_send(metrics.for_page(top));
        }
        #[cfg(not(feature = "ui"))]
        let _ = (metrics, top);
    }
}
