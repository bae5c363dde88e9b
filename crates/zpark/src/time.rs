use std::fmt;
use std::time::Duration;

/// The time of a slice: the end of its interval, measured from the moment the slice stream was
/// first polled. Slice k of a stream sliced every `d` has time `k·d`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use zpark::SliceTime;
/// let t = SliceTime::from_millis(1500);
/// assert_eq!(t.as_duration(), Duration::from_millis(1500));
/// assert_eq!(t.to_string(), "1.500s");
/// ```
///
/// A slice time also knows the length of its slice when the slicer said it (the window
/// operators check `window` and `slide` against it); two slice times are equal when their ends
/// are. It is saved by checkpoints (serde) as its end and interval.
#[derive(Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct SliceTime {
    end: Duration,
    interval: Option<Duration>,
}

impl PartialEq for SliceTime {
    fn eq(&self, other: &Self) -> bool {
        self.end == other.end
    }
}

impl Eq for SliceTime {}

impl PartialOrd for SliceTime {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SliceTime {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.end.cmp(&other.end)
    }
}

impl std::hash::Hash for SliceTime {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.end.hash(state);
    }
}

impl SliceTime {
    /// The start of the stream.
    pub const ZERO: SliceTime = SliceTime {
        end: Duration::ZERO,
        interval: None,
    };

    /// The end of a slice of length `interval`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// let t = zpark::SliceTime::with_interval(Duration::from_secs(3), Duration::from_secs(1));
    /// assert_eq!(t.interval(), Duration::from_secs(1));
    /// assert_eq!(t, zpark::SliceTime::from_millis(3000));
    /// ```
    pub const fn with_interval(end: Duration, interval: Duration) -> SliceTime {
        SliceTime {
            end,
            interval: Some(interval),
        }
    }

    /// The length of the slice: as the slicer said, or else the time itself (the first slice of
    /// a stream sliced every `d` ends at `d`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zpark::SliceTime::from_millis(500).interval().as_millis(), 500);
    /// ```
    pub const fn interval(self) -> Duration {
        match self.interval {
            Some(interval) => interval,
            None => self.end,
        }
    }

    /// A slice time `offset` after the start of the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::time::Duration;
    /// assert_eq!(zpark::SliceTime::new(Duration::from_secs(1)), zpark::SliceTime::from_millis(1000));
    /// ```
    pub const fn new(offset: Duration) -> SliceTime {
        SliceTime {
            end: offset,
            interval: None,
        }
    }

    /// A slice time `millis` milliseconds after the start.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zpark::SliceTime::from_millis(5).as_duration().as_millis(), 5);
    /// ```
    pub const fn from_millis(millis: u64) -> SliceTime {
        SliceTime::new(Duration::from_millis(millis))
    }

    /// The offset from the start of the stream.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(zpark::SliceTime::ZERO.as_duration(), std::time::Duration::ZERO);
    /// ```
    pub const fn as_duration(self) -> Duration {
        self.end
    }
}

/// The same as `Display`, so that results such as `(time, count)` print as `(1.000s, 100)`.
impl fmt::Debug for SliceTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for SliceTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.end.as_secs(), self.end.subsec_millis())
    }
}
