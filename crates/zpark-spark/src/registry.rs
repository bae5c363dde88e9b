//! Which Rust types can travel to Spark: a codec per type, found by its `TypeId` when a stage
//! is sent (zpark's `Rdd<T>` asks nothing of `T` but `Clone + Send + Sync`, so the Spark engine
//! learns here how to encode the types it meets).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{codec, SparkError};

/// Encodes rows of one type into a plan's data, and decodes result rows into that type.
pub(crate) trait ErasedCodec: Send + Sync {
    /// `rows` (a `Vec<T>`) as `LocalRelation`s of at most `max_rows` rows.
    fn encode(&self, rows: Box<dyn Any + Send>) -> Result<RecordBatch, SparkError>;
    /// Result batches as a `Box<Vec<T>>`.
    fn decode(&self, batches: &[RecordBatch]) -> Result<Box<dyn Any + Send>, SparkError>;
}

struct Typed<T>(PhantomData<fn() -> T>);

impl<T: Serialize + DeserializeOwned + Send + 'static> ErasedCodec for Typed<T> {
    fn encode(&self, rows: Box<dyn Any + Send>) -> Result<RecordBatch, SparkError> {
        let rows = rows.downcast::<Vec<T>>().map_err(|_| SparkError::Schema {
            type_name: std::any::type_name::<T>(),
            reason: "the rows given are of another type".to_string(),
        })?;
        codec::to_batch(&rows)
    }

    fn decode(&self, batches: &[RecordBatch]) -> Result<Box<dyn Any + Send>, SparkError> {
        Ok(Box::new(codec::from_batches::<T>(batches)?))
    }
}

/// The codecs of an engine, by type.
#[derive(Clone, Default)]
pub(crate) struct Registry {
    codecs: HashMap<TypeId, Arc<dyn ErasedCodec>>,
}

impl Registry {
    /// A registry that knows the common element types of slices: numbers, bools and strings,
    /// pairs of a key (integer, bool or string) and a value of those, and the `(K, Vec<V>)` of
    /// `group_by_key` over such pairs.
    pub(crate) fn with_common_types() -> Registry {
        let mut registry = Registry::default();
        macro_rules! scalars {
            ($($t:ty),*) => {$( registry.register::<$t>(); )*};
        }
        macro_rules! pairs_with_key {
            ($k:ty; $($v:ty),*) => {$(
                registry.register::<($k, $v)>();
                registry.register::<($k, Vec<$v>)>();
            )*};
        }
        macro_rules! pairs {
            ($($k:ty),*) => {$(
                pairs_with_key!($k; u64, i64, u32, i32, f64, bool, String);
            )*};
        }
        scalars!(
            u64,
            i64,
            u32,
            i32,
            f64,
            bool,
            String,
            Option<String>,
            Option<i64>,
            Option<f64>
        );
        // `Option<String>`: a field of each line (`Rdd::field`), `None` where a line has none.
        pairs!(u64, i64, u32, i32, bool, String, Option<String>);
        registry
    }

    /// Teaches the registry `T`.
    pub(crate) fn register<T: Serialize + DeserializeOwned + Send + 'static>(&mut self) {
        self.codecs.insert(TypeId::of::<T>(), Arc::new(Typed::<T>(PhantomData)));
    }

    /// The codec of a type, or an error that says how to register it.
    pub(crate) fn get(&self, ty: zpark::engine::DataType) -> Result<Arc<dyn ErasedCodec>, SparkError> {
        self.codecs.get(&ty.id).cloned().ok_or_else(|| SparkError::Schema {
            type_name: ty.name,
            reason: format!(
                "the Spark engine does not know this type: derive serde's Serialize and Deserialize for it and register it with zpark_spark::builder(url).register::<{}>()",
                ty.name
            ),
        })
    }
}
