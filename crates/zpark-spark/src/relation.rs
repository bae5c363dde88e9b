//! The Spark plans of zpark's built-in operations, over rows of one [`VALUE`] column (see
//! [`codec`]); pairs `(K, V)` are structs whose fields are `0` and `1`.
//!
//! Every plan ends with rows in that same shape, so that its result decodes into the Rust
//! type of the operation: `count_by_value` gives `(T, u64)`, `reduce_by_key` `(K, V)`,
//! `group_by_key` `(K, Vec<V>)`.

use serde::de::DeserializeOwned;
use serde::Serialize;
use spark_connect_proto as proto;
use spark_connect_proto::expression::ExprType;
use spark_connect_proto::relation::RelType;

use arrow::record_batch::RecordBatch;
use zpark::engine::Numbers;
use zpark::engine::StageOp;
use zpark::Reducer;

use crate::codec::{self, SLICE, VALUE};
use crate::SparkError;

/// A Spark Connect plan.
pub type Relation = proto::Relation;

pub(crate) fn relation(rel_type: RelType) -> Relation {
    Relation {
        common: None,
        rel_type: Some(rel_type),
    }
}

pub(crate) fn expression(expr_type: ExprType) -> proto::Expression {
    proto::Expression {
        expr_type: Some(expr_type),
        ..Default::default()
    }
}

/// A column, or a field of one (`value.`1``).
pub(crate) fn column(identifier: &str) -> proto::Expression {
    expression(ExprType::UnresolvedAttribute(proto::expression::UnresolvedAttribute {
        unparsed_identifier: identifier.to_string(),
        ..Default::default()
    }))
}

pub(crate) fn string(text: &str) -> proto::Expression {
    expression(ExprType::Literal(proto::expression::Literal {
        literal_type: Some(proto::expression::literal::LiteralType::String(text.to_string())),
        ..Default::default()
    }))
}

fn one() -> proto::Expression {
    expression(ExprType::Literal(proto::expression::Literal {
        literal_type: Some(proto::expression::literal::LiteralType::Integer(1)),
        ..Default::default()
    }))
}

fn zero() -> proto::Expression {
    expression(ExprType::Literal(proto::expression::Literal {
        literal_type: Some(proto::expression::literal::LiteralType::Integer(0)),
        ..Default::default()
    }))
}

pub(crate) fn call(function: &str, arguments: Vec<proto::Expression>) -> proto::Expression {
    expression(ExprType::UnresolvedFunction(proto::expression::UnresolvedFunction {
        function_name: function.to_string(),
        arguments,
        ..Default::default()
    }))
}

pub(crate) fn alias(expr: proto::Expression, name: &str) -> proto::Expression {
    expression(ExprType::Alias(Box::new(proto::expression::Alias {
        expr: Some(Box::new(expr)),
        name: vec![name.to_string()],
        ..Default::default()
    })))
}

/// `named_struct('0', first, '1', second) AS value`: a pair in the shape of a Rust tuple.
fn pair(first: proto::Expression, second: proto::Expression) -> proto::Expression {
    alias(
        call("named_struct", vec![string("0"), first, string("1"), second]),
        VALUE,
    )
}

pub(crate) fn project(input: Relation, expressions: Vec<proto::Expression>) -> Relation {
    relation(RelType::Project(Box::new(proto::Project {
        input: Some(Box::new(input)),
        expressions,
    })))
}

fn aggregate(input: Relation, grouping: Vec<proto::Expression>, aggregates: Vec<proto::Expression>) -> Relation {
    relation(RelType::Aggregate(Box::new(proto::Aggregate {
        input: Some(Box::new(input)),
        group_type: proto::aggregate::GroupType::Groupby as i32,
        grouping_expressions: grouping,
        aggregate_expressions: aggregates,
        ..Default::default()
    })))
}

const KEY: &str = "value.`0`";
const PAIR_VALUE: &str = "value.`1`";

/// A slice as data sent with the plan: `LocalRelation`s of at most `max_rows` rows each,
/// unioned, so that no single request grows without bound (one 40 MB relation has been seen
/// to wedge a server's driver).
///
/// # Errors
///
/// [`SparkError::Schema`] naming `T` when it has no Arrow form.
///
/// # Panics
///
/// When `max_rows` is 0.
///
/// # Examples
///
/// ```
/// let plan = zpark_spark::relation::local(&[1u64, 2, 3], 2)?;
/// assert!(plan.rel_type.is_some());
/// # Ok::<_, zpark_spark::SparkError>(())
/// ```
pub fn local<T: Serialize + DeserializeOwned>(elements: &[T], max_rows: usize) -> Result<Relation, SparkError> {
    from_batch(&codec::to_batch(elements)?, max_rows)
}

/// Rows already in Arrow as data sent with the plan, in `LocalRelation`s of at most `max_rows`
/// rows each (unioned), as [`local`] does.
///
/// # Errors
///
/// When the batch cannot be written as Arrow IPC.
///
/// # Panics
///
/// When `max_rows` is 0.
///
/// # Examples
///
/// ```
/// let batch = zpark_spark::codec::to_batch(&[1u64, 2, 3])?;
/// let plan = zpark_spark::relation::from_batch(&batch, 2)?;
/// assert!(plan.rel_type.is_some());
/// # Ok::<_, zpark_spark::SparkError>(())
/// ```
pub fn from_batch(batch: &RecordBatch, max_rows: usize) -> Result<Relation, SparkError> {
    assert!(
        max_rows > 0,
        "relation::from_batch: pieces need at least 1 row (0 given)"
    );
    let piece = |offset: usize| -> Result<Relation, SparkError> {
        let rows = batch.slice(offset, max_rows.min(batch.num_rows() - offset));
        Ok(relation(RelType::LocalRelation(proto::LocalRelation {
            data: Some(codec::to_ipc(&[rows])?.into()),
            schema: None,
        })))
    };
    let mut pieces = (0..batch.num_rows()).step_by(max_rows).map(piece);
    let first = pieces.next().unwrap_or_else(|| piece(0))?;
    pieces.try_fold(first, |all, next| Ok(union(all, next?)))
}

/// Both inputs' rows, duplicates kept (`UNION ALL`).
///
/// # Examples
///
/// ```
/// use zpark_spark::relation::{local, union};
/// let both = union(local(&[1u64], 10)?, local(&[2u64], 10)?);
/// assert!(both.rel_type.is_some());
/// # Ok::<_, zpark_spark::SparkError>(())
/// ```
pub fn union(left: Relation, right: Relation) -> Relation {
    relation(RelType::SetOp(Box::new(proto::SetOperation {
        left_input: Some(Box::new(left)),
        right_input: Some(Box::new(right)),
        set_op_type: proto::set_operation::SetOpType::Union as i32,
        is_all: Some(true),
        ..Default::default()
    })))
}

/// Whether a plan's rows are one slice's, or several slices' told apart by their [`SLICE`]
/// tag (see [`codec::tagged`]): then each operation works per tag and keeps the tag in
/// front.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slices {
    /// The rows of one slice.
    One,
    /// Rows of several slices, with their tag.
    Tagged,
}

impl Slices {
    /// `columns`, after the tag when the rows have one.
    fn with_tag(self, mut columns: Vec<proto::Expression>) -> Vec<proto::Expression> {
        if self == Slices::Tagged {
            columns.insert(0, column(SLICE));
        }
        columns
    }
}

/// The plan of zpark's built-in stage `op` over `input`.
///
/// # Examples
///
/// ```
/// use zpark::engine::StageOp;
/// use zpark_spark::relation::{local, stage, Slices};
/// let plan = stage(StageOp::CountByValue, local(&[1u64, 1, 2], 10)?, Slices::One);
/// assert!(plan.rel_type.is_some());
/// # Ok::<_, zpark_spark::SparkError>(())
/// ```
pub fn stage(op: StageOp, input: Relation, slices: Slices) -> Relation {
    match op {
        StageOp::CountByValue => count_by_value_of(input, slices),
        // On tagged rows the tag is one of the columns deduplicated: distinct per slice.
        StageOp::Distinct => distinct(input),
        StageOp::ReduceByKey(r, numbers) => by_key_reduced(input, (r, numbers), slices),
        StageOp::GroupByKey => by_key(input, ("collect_list", "vs"), slices),
        StageOp::Count => count_of(input, slices),
        StageOp::Reduce(r, numbers) => reduce_of(input, (r, numbers), slices),
    }
}

/// One row: the number of rows (`u64`).
pub fn count(input: Relation) -> Relation {
    count_of(input, Slices::One)
}

fn count_of(input: Relation, slices: Slices) -> Relation {
    let counted = aggregate(
        input,
        slices.with_tag(Vec::new()),
        vec![alias(call("count", vec![one()]), VALUE)],
    );
    project(counted, slices.with_tag(vec![column(VALUE)]))
}

/// Each distinct value with its number of rows: `(T, u64)`.
pub fn count_by_value(input: Relation) -> Relation {
    count_by_value_of(input, Slices::One)
}

fn count_by_value_of(input: Relation, slices: Slices) -> Relation {
    let counted = aggregate(
        input,
        slices.with_tag(vec![column(VALUE)]),
        vec![alias(call("count", vec![one()]), "n")],
    );
    project(counted, slices.with_tag(vec![pair(column(VALUE), column("n"))]))
}

/// The distinct rows (of every column: per slice, on tagged rows).
pub fn distinct(input: Relation) -> Relation {
    relation(RelType::Deduplicate(Box::new(proto::Deduplicate {
        input: Some(Box::new(input)),
        all_columns_as_keys: Some(true),
        ..Default::default()
    })))
}

/// Pairs `(K, V)` reduced per key by `reducer` (its [`name`](Reducer::name) is the Spark
/// function): `(K, V)`; a count is a `bigint`, cast back to `V` when decoded. Whole numbers
/// are summed in a `decimal(38, 0)`: exact past `i64::MAX` (a `u64` total), where a `bigint`
/// sum would overflow.
pub fn reduce_by_key(input: Relation, reducer: Reducer, numbers: Numbers) -> Relation {
    by_key_reduced(input, (reducer, numbers), Slices::One)
}

fn by_key_reduced(input: Relation, (reducer, numbers): (Reducer, Numbers), slices: Slices) -> Relation {
    let reduced = aggregate(
        input,
        slices.with_tag(vec![alias(column(KEY), "k")]),
        vec![alias(reduction(reducer, numbers, column(PAIR_VALUE)), "v")],
    );
    project(reduced, slices.with_tag(vec![pair(column("k"), column("v"))]))
}

/// `reducer` over `values`: a sum of whole numbers in a `decimal(38, 0)`.
fn reduction(reducer: Reducer, numbers: Numbers, values: proto::Expression) -> proto::Expression {
    match (reducer, numbers) {
        (Reducer::Sum, Numbers::Integers) => call("sum", vec![cast(values, "decimal(38,0)")]),
        _ => call(reducer.name(), vec![values]),
    }
}

fn cast(expr: proto::Expression, type_str: &str) -> proto::Expression {
    expression(ExprType::Cast(Box::new(proto::expression::Cast {
        expr: Some(Box::new(expr)),
        cast_to_type: Some(proto::expression::cast::CastToType::TypeStr(type_str.to_string())),
        ..Default::default()
    })))
}

/// Pairs `(K, V)` gathered per key: `(K, Vec<V>)`.
pub fn group_by_key(input: Relation) -> Relation {
    by_key(input, ("collect_list", "vs"), Slices::One)
}

/// The values of each key aggregated by `function`, into pairs `(K, result)`.
fn by_key(input: Relation, (function, name): (&str, &str), slices: Slices) -> Relation {
    let reduced = aggregate(
        input,
        slices.with_tag(vec![alias(column(KEY), "k")]),
        vec![alias(call(function, vec![column(PAIR_VALUE)]), name)],
    );
    project(reduced, slices.with_tag(vec![pair(column("k"), column(name))]))
}

/// At most one row: all values reduced by `reducer`; none for no rows (Spark's aggregate gives
/// one null row then, or 0 for a count, which is filtered out, as the embedded engine gives no
/// element).
pub fn reduce(input: Relation, reducer: Reducer, numbers: Numbers) -> Relation {
    reduce_of(input, (reducer, numbers), Slices::One)
}

fn reduce_of(input: Relation, (reducer, numbers): (Reducer, Numbers), slices: Slices) -> Relation {
    let reduced = aggregate(
        input,
        slices.with_tag(Vec::new()),
        vec![alias(reduction(reducer, numbers, column(VALUE)), VALUE)],
    );
    // No rows: a null (or, for a count, 0) that the embedded engine has no element for.
    let condition = match reducer {
        Reducer::Count => call(">", vec![column(VALUE), zero()]),
        _ => call("isnotnull", vec![column(VALUE)]),
    };
    relation(RelType::Filter(Box::new(proto::Filter {
        input: Some(Box::new(reduced)),
        condition: Some(condition),
    })))
}
