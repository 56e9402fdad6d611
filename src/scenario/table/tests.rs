//! Fleet tables read by every reader, checked cell by cell and error by error.

use std::path::PathBuf;

use polars::prelude::{
    ArrowDataType, Categories, Column, DataFrame, DataType, NamedFrom, ParquetReader, SerReader,
    Series,
};

use super::columns::*;
use super::parquet::*;
use super::reference::*;
use super::*;
use crate::catalog::{Cohort, ProjectKey, Release, ReleaseKind};
use crate::fleet::{DeviceReport, NewDevice};
use crate::ids::{CohortId, DeviceIdx, HardwareId, SoftwareTypeId, VersionId};
use crate::table_out::{write_csv, write_parquet};

/// A catalog with cohorts `beta` and `stable`, key `recovery`, a second software
/// type `fw2`, full releases 1.0.0 and 2.0.0 and a delta 1.0.0->2.0.0.
fn catalog() -> Catalog {
    let mut c = Catalog::new();
    for name in ["beta", "stable"] {
        c.define_cohort(Cohort {
            name: name.into(),
            disable_version_checking: false,
            protected: false,
            approval_team: None,
        })
        .unwrap();
    }
    c.define_project_key(ProjectKey {
        name: "recovery".into(),
        ota_cohort_override: None,
    })
    .unwrap();
    c.define_software_type("fw2", false).unwrap();
    let evt = c.intern_hardware("evt").unwrap();
    let main = SoftwareTypeId(0);
    let v1 = c.intern_version(main, "1.0.0").unwrap();
    let v2 = c.intern_version(main, "2.0.0").unwrap();
    for kind in [
        ReleaseKind::Full {
            version: v1,
            must_pass_through: false,
        },
        ReleaseKind::Full {
            version: v2,
            must_pass_through: false,
        },
        ReleaseKind::Delta { from: v1, to: v2 },
    ] {
        c.add_release(Release {
            software_type: main,
            kind,
            payloads: vec![(evt, 10)],
            deleted: false,
        })
        .unwrap();
    }
    c
}

/// A table as text cells: a header and rows (`""` is an empty / null cell).
struct Spec {
    header: Vec<&'static str>,
    rows: Vec<Vec<&'static str>>,
}

fn spec(header: &str, rows: &[&'static str]) -> Spec {
    let header: Vec<&'static str> = header.split(',').map(|h| &*h.to_string().leak()).collect();
    let rows = rows
        .iter()
        .map(|r| r.split(',').collect::<Vec<_>>())
        .collect();
    Spec { header, rows }
}

impl Spec {
    fn csv(&self) -> String {
        let mut text = self.header.join(",") + "\n";
        for r in &self.rows {
            text += &(r.join(",") + "\n");
        }
        text
    }

    /// As a polars frame: text columns as strings (nulls for empty cells), or as
    /// categoricals; `staged` as booleans and `last_seen` as integers when they
    /// parse as such.
    fn frame(&self, categorical: bool) -> DataFrame {
        let cols = self
            .header
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let cells: Vec<Option<&str>> = self
                    .rows
                    .iter()
                    .map(|r| Some(r[i]).filter(|c| !c.is_empty()))
                    .collect();
                let s = Series::new((*name).into(), &cells);
                let typed = match *name {
                    "staged" => s.cast(&DataType::Boolean).ok().filter(|t| {
                        t.null_count() == s.null_count()
                            && cells
                                .iter()
                                .flatten()
                                .all(|c| c == &"true" || c == &"false")
                    }),
                    "last_seen" => s
                        .cast(&DataType::Int64)
                        .ok()
                        .filter(|t| t.null_count() == s.null_count()),
                    _ if categorical => Some(
                        s.cast(&DataType::from_categories(Categories::global()))
                            .unwrap(),
                    ),
                    _ => None,
                };
                Column::from(typed.unwrap_or(s))
            })
            .collect();
        DataFrame::new_infer_height(cols).unwrap()
    }
}

enum Format {
    Csv,
    Parquet,
    ParquetCategorical,
    /// Written with polars' low-level Parquet writer, in a layout of its own.
    ParquetLayout(Layout),
}

/// How a Parquet file is laid out: what the direct reader must cover.
struct Layout {
    v2_pages: bool,
    /// Text columns PLAIN rather than dictionary-encoded.
    plain_text: bool,
    /// Device ids dictionary-encoded rather than PLAIN.
    dictionary_ids: bool,
    categorical: bool,
    rows_per_group: usize,
    compression: polars_parquet::write::CompressionOptions,
}

const FORMATS: [Format; 7] = {
    use polars_parquet::write::CompressionOptions as C;
    [
        Format::Csv,
        Format::Parquet,
        Format::ParquetCategorical,
        Format::ParquetLayout(Layout {
            v2_pages: true,
            plain_text: false,
            dictionary_ids: false,
            categorical: false,
            rows_per_group: 2,
            compression: C::Zstd(None),
        }),
        Format::ParquetLayout(Layout {
            v2_pages: false,
            plain_text: true,
            dictionary_ids: true,
            categorical: false,
            rows_per_group: 3,
            compression: C::Snappy,
        }),
        Format::ParquetLayout(Layout {
            v2_pages: true,
            plain_text: true,
            dictionary_ids: false,
            categorical: false,
            rows_per_group: 1,
            compression: C::Uncompressed,
        }),
        Format::ParquetLayout(Layout {
            v2_pages: false,
            plain_text: false,
            dictionary_ids: true,
            categorical: true,
            rows_per_group: 1000,
            compression: C::Lz4Raw,
        }),
    ]
};

/// Writes `df` as `layout` says: several row groups, pages of a few rows.
fn write_layout(path: &Path, df: &mut DataFrame, layout: &Layout) {
    use polars::prelude::{CompatLevel, SchemaExt};
    use polars_parquet::write::{
        Encoding, FileWriter, RowGroupIterator, StatisticsOptions, Version, WriteOptions,
    };
    let schema = df.schema().to_arrow(CompatLevel::newest());
    let encodings: Vec<Vec<Encoding>> = schema
        .iter_values()
        .map(|f| {
            let text = matches!(
                f.dtype,
                ArrowDataType::Utf8View | ArrowDataType::Dictionary(..)
            );
            let plain = if f.name == "device_id" {
                !layout.dictionary_ids
            } else {
                text && layout.plain_text
            };
            vec![if plain {
                Encoding::Plain
            } else {
                polars_parquet::write::get_dtype_encoding(&f.dtype)[0]
            }]
        })
        .collect();
    let options = WriteOptions {
        statistics: StatisticsOptions::default(),
        version: if layout.v2_pages {
            Version::V2
        } else {
            Version::V1
        },
        compression: layout.compression,
        data_page_size: Some(16),
    };
    let file = std::fs::File::create(path).unwrap();
    let mut writer = FileWriter::try_new(file, schema.clone(), options).unwrap();
    let mut offset = 0;
    while offset < df.height() {
        let mut part = df.slice(offset as i64, layout.rows_per_group);
        part.rechunk_mut();
        let rows = part.height();
        let batches = part.iter_chunks(CompatLevel::newest(), false).map(Ok);
        let groups =
            RowGroupIterator::try_new(batches, &schema, options, encodings.clone().into()).unwrap();
        for group in groups {
            writer.write(rows as u64, group.unwrap()).unwrap();
        }
        offset += rows;
    }
    writer.end(None).unwrap();
}

fn write(dir: &Path, spec: &Spec, kind: &Format) -> PathBuf {
    match kind {
        Format::Csv => {
            let p = dir.join("fleet.csv");
            std::fs::write(&p, spec.csv()).unwrap();
            p
        }
        Format::Parquet | Format::ParquetCategorical => {
            let p = dir.join("fleet.parquet");
            let mut df = spec.frame(matches!(kind, Format::ParquetCategorical));
            write_parquet(&p, &mut df).unwrap();
            p
        }
        Format::ParquetLayout(layout) => {
            let p = dir.join("fleet.parquet");
            write_layout(&p, &mut spec.frame(layout.categorical), layout);
            p
        }
    }
}

/// Reads a table as otasim does. A Parquet table is also read by polars alone: the
/// two readers must agree, and the direct one must cover every file these tests
/// write, unless a column's type is one it leaves to polars. Every table is read a
/// second time from the table kept by the first read (as `diff A B` does): the same
/// fleet, or the same error.
fn load(path: &Path) -> Result<(Catalog, Fleet), ScenarioError> {
    let read_ids =
        |reader, tables: &SharedTables, ids| -> Result<(Catalog, Fleet), ScenarioError> {
            let mut c = catalog();
            let mut fleet = Fleet::new();
            match reader {
                Some(reader) => read_parquet(path, &mut c, &mut fleet, reader, tables, ids)?,
                None => read_fleet_table(path, &mut c, &mut fleet, tables, ids)?,
            }
            Ok((c, fleet))
        };
    let read = |reader, tables: &SharedTables| read_ids(reader, tables, DeviceIds::Read);
    let tables = SharedTables::new();
    let first = read(None, &tables);
    let kept = tables.reused();
    let again = read(None, &tables);
    assert_same(path, "a kept table reads otherwise", &first, &again);
    if first.is_ok() {
        assert_eq!(tables.reused(), kept + 1, "{}", path.display());
    }
    if path.extension().is_none_or(|e| e != "parquet") {
        return first;
    }
    let fresh = SharedTables::default();
    let direct = read(Some(ParquetDecoder::Direct), &fresh);
    let polars = read(Some(ParquetDecoder::Polars), &fresh);
    assert_same(path, "the readers disagree", &direct, &polars);
    // Ids left unread: the same fleet (each id read when asked for), or the same error,
    // but for the id checks they skip (a table with no other error then loads).
    let unread = read_ids(Some(ParquetDecoder::Direct), &fresh, DeviceIds::Unread);
    match (&direct, &unread) {
        (Err(e), Ok(_)) => assert!(
            e.message.ends_with("is defined twice") || e.message.ends_with("device_id is empty"),
            "{}: {e}",
            path.display()
        ),
        _ => assert_same(path, "ids left unread read otherwise", &direct, &unread),
    }
    assert!(
        direct_covers(path) != Some(false),
        "the direct reader gave up on {}",
        path.display()
    );
    direct
}

/// Asserts that two reads of `path` gave the same fleet or the same error.
fn assert_same(
    path: &Path,
    what: &str,
    a: &Result<(Catalog, Fleet), ScenarioError>,
    b: &Result<(Catalog, Fleet), ScenarioError>,
) {
    match (a, b) {
        (Ok((c1, f1)), Ok((c2, f2))) => {
            assert_eq!(
                describe_all(c1, f1),
                describe_all(c2, f2),
                "{}",
                path.display()
            )
        }
        (Err(e1), Err(e2)) => assert_eq!(e1.to_string(), e2.to_string()),
        (a, b) => panic!(
            "{what} on {}: {:?}, then {:?}",
            path.display(),
            a.as_ref().err().map(ToString::to_string),
            b.as_ref().err().map(ToString::to_string),
        ),
    }
}

/// Whether the direct reader reads `path` (`None`: its columns' types are left to
/// polars, or the header is bad).
fn direct_covers(path: &Path) -> Option<bool> {
    let mut reader = ParquetReader::new(std::fs::File::open(path).ok()?);
    let schema = reader.schema().ok()?;
    let header: Vec<&str> = schema.iter_names().map(|n| n.as_str()).collect();
    let pos = map_columns(path, None, &header).ok()?;
    let (wanted, _) = direct_plan(&schema, &pos, DeviceIds::Read)?;
    Some(direct::read(path, &wanted).is_some())
}

/// The same table read row by row with [`RowInterner`] (the reference).
fn reference(spec: &Spec) -> Result<(Catalog, Fleet), String> {
    let mut c = catalog();
    let mut fleet = Fleet::new();
    let mut interner = RowInterner::default();
    let pos = map_columns(Path::new("x"), None, &spec.header).map_err(|e| e.message)?;
    for r in &spec.rows {
        let cell = |i: usize| pos[i].map_or("", |p| r[p]);
        let row = TextRow {
            device_id: cell(0),
            hardware_version: cell(1),
            software_version: cell(2),
            cohort: cell(3),
            software_type: cell(4),
            project_key: cell(5),
            staged: cell(6),
            release_override: cell(7),
            last_seen: cell(8),
        };
        let d = interner.device(&mut c, &row)?;
        fleet.push(d)?;
    }
    Ok((c, fleet))
}

/// One device as names, so that fleets of different catalogs compare.
fn describe(c: &Catalog, f: &Fleet, i: usize) -> String {
    let d = DeviceIdx(i as u32);
    let r = f.report(d);
    format!(
        "{} {} {} {} {} {:?} {} {:?} {:?}",
        f.id(d),
        c.hardware_name(r.hardware),
        c.software_type(r.software_type).name,
        c.version(r.version),
        c.cohort(r.cohort).name,
        r.project_key.map(|k| c.project_key(k).name.clone()),
        r.staged,
        r.release_override.map(|o| c.release_name(o)),
        f.last_seen(d),
    )
}

fn describe_all(c: &Catalog, f: &Fleet) -> Vec<String> {
    (0..f.len()).map(|i| describe(c, f, i)).collect()
}

/// Reads `spec` as CSV, Parquet and categorical Parquet; each must give the fleet
/// the row-by-row reference gives.
fn check_ok(spec: &Spec) -> Vec<String> {
    let (rc, rf) = reference(spec).expect("the reference accepts the table");
    let want = describe_all(&rc, &rf);
    for kind in &FORMATS {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), spec, kind);
        let (c, f) = load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(describe_all(&c, &f), want, "{}", path.display());
    }
    want
}

/// Reads `spec` in every format; each must fail with `csv` (CSV) and `parquet`
/// (Parquet) as the whole rendered error, the file being `fleet.csv` or
/// `fleet.parquet` in a temporary directory.
fn check_err(spec: &Spec, csv: &str, parquet: &str) {
    for kind in &FORMATS {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), spec, kind);
        let err = load(&path).expect_err("the table is bad").to_string();
        let err = err.replace(&format!("{}", dir.path().display()), "DIR");
        let want = match kind {
            Format::Csv => csv,
            _ => parquet,
        };
        assert_eq!(err, want);
    }
}

const HEADER: &str = "device_id,hardware_version,software_version,cohort,software_type,project_key,staged,release_override,last_seen";

#[test]
fn every_column_in_every_format_matches_the_row_reader() {
    let got = check_ok(&spec(
        HEADER,
        &[
            "SN-1,evt,1.0.0,beta,,recovery,true,,5",
            "SN-2,dvt,1.5.0-rc.1,,main,,false,2.0.0,",
            "SN-3,evt,1.0.0,stable,fw2,,,,-3",
            "SN-4,pvt-long-hardware-name,0.1.0,beta,,,true,1.0.0,100",
        ],
    ));
    assert_eq!(
        got,
        [
            "SN-1 evt main 1.0.0 beta Some(\"recovery\") true None Some(5)",
            "SN-2 dvt main 1.5.0-rc.1 default None false Some(\"2.0.0\") None",
            "SN-3 evt fw2 1.0.0 stable None false None Some(-3)",
            "SN-4 pvt-long-hardware-name main 0.1.0 beta None true Some(\"1.0.0\") Some(100)",
        ]
    );
}

#[test]
fn required_columns_only() {
    check_ok(&spec(
        "device_id,hardware_version,software_version",
        &["a,evt,1.0.0", "b,evt,2.0.0"],
    ));
}

#[test]
fn staged_as_text_in_parquet() {
    let s = spec(
        "device_id,hardware_version,software_version,staged",
        &["a,evt,1.0.0,YES", "b,evt,1.0.0,0", "c,evt,1.0.0,"],
    );
    let got = check_ok(&s);
    assert!(got[0].contains(" true "), "{got:?}");
}

#[test]
fn a_categorical_parquet_column_is_read_as_categorical() {
    let s = spec(
        "device_id,hardware_version,software_version,cohort",
        &["a,evt,1.0.0,beta", "b,evt,1.0.0,", "c,dvt,2.0.0,beta"],
    );
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), &s, &Format::ParquetCategorical);
    let df = ParquetReader::new(std::fs::File::open(&path).unwrap())
        .finish()
        .unwrap();
    assert!(
        df.column("cohort").unwrap().dtype().is_categorical(),
        "{:?}",
        df.dtypes()
    );
    check_ok(&s);
}

#[test]
fn unknown_cohort_names_file_row_device_and_suggestion() {
    check_err(
        &spec(
            "device_id,hardware_version,software_version,cohort",
            &["a,evt,1.0.0,beta", "SN-9,evt,1.0.0,bta", "c,evt,1.0.0,bta"],
        ),
        "DIR/fleet.csv:3: device \"SN-9\": unknown cohort \"bta\" (did you mean \"beta\"?)",
        "DIR/fleet.parquet: row 2: device \"SN-9\": unknown cohort \"bta\" (did you mean \"beta\"?)",
    );
}

#[test]
fn the_first_bad_row_wins_and_in_it_the_first_bad_cell() {
    // Row 2 has a bad version and a bad cohort: the version is checked first.
    // Row 3's bad hardware-less cell comes later.
    check_err(
        &spec(
            "device_id,hardware_version,software_version,cohort,project_key",
            &[
                "a,evt,1.0.0,beta,",
                "b,evt,1.0,nope,",
                "c,,1.0.0,beta,",
                "d,evt,1.0.0,beta,nokey",
            ],
        ),
        "DIR/fleet.csv:3: device \"b\": version \"1.0\" is not a valid SemVer 2.0 version (unexpected end of input while parsing minor version number)",
        "DIR/fleet.parquet: row 2: device \"b\": version \"1.0\" is not a valid SemVer 2.0 version (unexpected end of input while parsing minor version number)",
    );
}

#[test]
fn bad_versions_unknown_keys_types_and_overrides() {
    let h =
        "device_id,hardware_version,software_version,software_type,project_key,release_override";
    let cases: [(&str, &str); 6] = [
        ("x,evt,,,,", "version \"\""),
        (
            "x,evt,1.0.0,fw3,,",
            "unknown software type \"fw3\" (did you mean \"fw2\"?)",
        ),
        (
            "x,evt,1.0.0,,recovry,",
            "unknown project key \"recovry\" (did you mean \"recovery\"?)",
        ),
        (
            "x,evt,1.0.0,,,3.0.0",
            "release_override: unknown release \"3.0.0\"",
        ),
        (
            "x,evt,1.0.0,,,1.0.0->2.0.0",
            "is a delta release; an override must name a full release",
        ),
        ("x,,1.0.0,,,", "hardware_version is empty"),
    ];
    for (row, want) in cases {
        let s = spec(h, &["ok,evt,1.0.0,,,", row]);
        for kind in &FORMATS {
            let dir = tempfile::tempdir().unwrap();
            let err = load(&write(dir.path(), &s, kind)).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(want), "{text}\nwants {want}");
            assert!(text.contains("device \"x\""), "{text}");
            match kind {
                Format::Csv => assert_eq!(err.line, Some(3), "{text}"),
                _ => assert!(text.contains(": row 2: "), "{text}"),
            }
        }
        // The row reader agrees.
        let r = reference(&s).unwrap_err();
        assert!(r.contains(want), "{r}");
    }
}

#[test]
fn build_metadata_is_refused_unless_the_type_allows_it() {
    check_err(
        &spec(
            "device_id,hardware_version,software_version",
            &["a,evt,1.0.0+abc"],
        ),
        "DIR/fleet.csv:2: device \"a\": version \"1.0.0+abc\" has build metadata, which software type \"main\" does not allow (set allow_build_metadata = true)",
        "DIR/fleet.parquet: row 1: device \"a\": version \"1.0.0+abc\" has build metadata, which software type \"main\" does not allow (set allow_build_metadata = true)",
    );
}

#[test]
fn duplicate_ids_name_the_second_row() {
    check_err(
        &spec(
            "device_id,hardware_version,software_version",
            &["a,evt,1.0.0", "b,evt,1.0.0", "a,evt,2.0.0"],
        ),
        "DIR/fleet.csv:4: device \"a\" is defined twice",
        "DIR/fleet.parquet: row 3: device \"a\" is defined twice",
    );
    // A duplicate before a bad row is met first, as row by row.
    check_err(
        &spec(
            "device_id,hardware_version,software_version,cohort",
            &["a,evt,1.0.0,", "a,evt,1.0.0,", "b,evt,1.0.0,nope"],
        ),
        "DIR/fleet.csv:3: device \"a\" is defined twice",
        "DIR/fleet.parquet: row 2: device \"a\" is defined twice",
    );
}

/// Ids left unread are not stored or checked: a table whose only fault is a repeated
/// or empty id loads, each row's id is read when asked for (in any order), and no id
/// is found by lookup; with a bad cell as well, the error is the one a read with ids
/// gives, the repeated id first.
#[test]
fn ids_left_unread_are_read_when_asked_for_and_not_checked() {
    let dir = tempfile::tempdir().unwrap();
    let read = |spec: &Spec, ids| {
        let path = write(dir.path(), spec, &Format::Parquet);
        let (mut c, mut fleet) = (catalog(), Fleet::new());
        read_fleet_table(&path, &mut c, &mut fleet, &SharedTables::default(), ids)
            .map(|()| fleet)
            .map_err(|e| e.message)
    };
    let repeated = spec(
        "device_id,hardware_version,software_version",
        &["a,evt,1.0.0", "b,evt,1.0.0", "a,evt,2.0.0", ",evt,2.0.0"],
    );
    let fleet = read(&repeated, DeviceIds::Unread).unwrap();
    let ids: Vec<String> = [3, 0, 2, 1]
        .map(|i| fleet.id(DeviceIdx(i)).into_owned())
        .into();
    assert_eq!(ids, ["", "a", "a", "b"]);
    assert_eq!(fleet.find("b"), None, "unread ids are not looked up");
    assert_eq!(
        read(&repeated, DeviceIds::Read).unwrap_err(),
        "row 3: device \"a\" is defined twice"
    );
    let stored = read(
        &spec(
            "device_id,hardware_version,software_version",
            &["b,evt,1.0.0"],
        ),
        DeviceIds::Read,
    )
    .unwrap();
    assert_eq!(stored.find("b"), Some(DeviceIdx(0)));
    let bad = spec(
        "device_id,hardware_version,software_version,cohort",
        &["a,evt,1.0.0,", "a,evt,1.0.0,", "b,evt,1.0.0,nope"],
    );
    assert_eq!(
        read(&bad, DeviceIds::Unread).unwrap_err(),
        "row 2: device \"a\" is defined twice"
    );
}

#[test]
fn a_duplicate_of_a_device_already_in_the_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let s = spec(
        "device_id,hardware_version,software_version",
        &["a,evt,1.0.0", "SN-1,evt,1.0.0"],
    );
    for kind in &FORMATS {
        let path = write(dir.path(), &s, kind);
        let mut c = catalog();
        let mut fleet = Fleet::new();
        let report = DeviceReport {
            software_type: SoftwareTypeId(0),
            version: VersionId(0),
            hardware: HardwareId(0),
            project_key: None,
            cohort: CohortId(0),
            staged: false,
            release_override: None,
        };
        fleet
            .push(NewDevice {
                id: "SN-1".into(),
                report,
                last_seen: None,
            })
            .unwrap();
        let err = read_fleet_table(
            &path,
            &mut c,
            &mut fleet,
            &SharedTables::default(),
            DeviceIds::Read,
        )
        .unwrap_err();
        assert!(
            err.message.contains("device \"SN-1\" is defined twice"),
            "{err}"
        );
        // Nothing of the table was added.
        assert_eq!(fleet.len(), 1);
        assert_eq!(fleet.find("a"), None);
    }
}

#[test]
fn empty_device_ids() {
    check_err(
        &spec(
            "device_id,hardware_version,software_version",
            &["a,evt,1.0.0", ",evt,1.0.0"],
        ),
        "DIR/fleet.csv:3: device_id is empty",
        "DIR/fleet.parquet: row 2: device_id is empty",
    );
}

#[test]
fn bad_staged_and_last_seen_cells() {
    let s = spec(
        "device_id,hardware_version,software_version,staged",
        &["a,evt,1.0.0,true", "b,evt,1.0.0,maybe"],
    );
    check_err(
        &s,
        "DIR/fleet.csv:3: device \"b\": staged \"maybe\" is not true or false",
        "DIR/fleet.parquet: row 2: device \"b\": staged \"maybe\" is not true or false",
    );
    let s = spec(
        "device_id,hardware_version,software_version,last_seen",
        &["a,evt,1.0.0,1", "b,evt,1.0.0,99999999999"],
    );
    check_err(
        &s,
        "DIR/fleet.csv:3: device \"b\": last_seen 99999999999 is out of range",
        "DIR/fleet.parquet: row 2: device \"b\": last_seen 99999999999 is out of range",
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.csv");
    std::fs::write(
        &p,
        "device_id,hardware_version,software_version,last_seen\na,evt,1.0.0,yesterday\n",
    )
    .unwrap();
    let e = load(&p).unwrap_err();
    assert_eq!(e.line, Some(2));
    assert!(
        e.message
            .ends_with("device \"a\": last_seen \"yesterday\" is not a tick number"),
        "{e}"
    );
}

#[test]
fn header_errors() {
    let rows = ["a,evt,1.0.0,x"];
    check_err(
        &spec("device_id,hardware_version,software_version,cohrt", &rows),
        "DIR/fleet.csv:1: unknown column \"cohrt\" (did you mean \"cohort\"?) (columns: device_id, hardware_version, software_version, cohort, software_type, project_key, staged, release_override, last_seen)",
        "DIR/fleet.parquet: unknown column \"cohrt\" (did you mean \"cohort\"?) (columns: device_id, hardware_version, software_version, cohort, software_type, project_key, staged, release_override, last_seen)",
    );
    check_err(
        &spec("device_id,hardware_version,cohort", &["a,evt,beta"]),
        "DIR/fleet.csv:1: missing required column \"software_version\"",
        "DIR/fleet.parquet: missing required column \"software_version\"",
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.csv");
    std::fs::write(
        &p,
        "device_id,hardware_version,software_version,cohort,cohort\n",
    )
    .unwrap();
    let e = load(&p).unwrap_err();
    assert_eq!(
        (e.line, e.message.as_str()),
        (Some(1), "column \"cohort\" appears twice")
    );
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bom.csv");
    std::fs::write(
        &p,
        "\u{feff}device_id,hardware_version,software_version\na,evt,1.0.0\n",
    )
    .unwrap();
    let (_, f) = load(&p).unwrap();
    assert_eq!(f.find("a"), Some(DeviceIdx(0)));
}

#[test]
fn empty_tables() {
    let s = spec("device_id,hardware_version,software_version", &[]);
    check_err(
        &s,
        "DIR/fleet.csv: fleet table has no devices",
        "DIR/fleet.parquet: fleet table has no devices",
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.csv");
    std::fs::write(&p, "").unwrap();
    let e = load(&p).unwrap_err();
    assert_eq!(e.message, "fleet table is empty (no header row)");
    let p = dir.path().join("f.parquet");
    std::fs::write(&p, "").unwrap();
    let e = load(&p).unwrap_err();
    assert!(
        e.message
            .starts_with("cannot read fleet table as Parquet: "),
        "{e}"
    );
    std::fs::write(&p, "device_id,hardware_version\nnot,parquet\n").unwrap();
    let e = load(&p).unwrap_err();
    assert!(
        e.message
            .starts_with("cannot read fleet table as Parquet: "),
        "{e}"
    );
    let e = load(&dir.path().join("missing.parquet")).unwrap_err();
    assert!(e.message.starts_with("cannot read fleet table: "), "{e}");
    let e = load(&dir.path().join("f.xlsx")).unwrap_err();
    assert!(e.message.starts_with("unknown fleet table format"), "{e}");
}

fn parquet_with(columns: Vec<Column>) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("typed.parquet");
    let mut df = DataFrame::new_infer_height(columns).unwrap();
    write_parquet(&p, &mut df).unwrap();
    (dir, p)
}

fn base_columns() -> Vec<Column> {
    vec![
        Column::new("device_id".into(), &["a", "b"]),
        Column::new("hardware_version".into(), &["evt", "evt"]),
        Column::new("software_version".into(), &["1.0.0", "2.0.0"]),
    ]
}

#[test]
fn wrong_column_types() {
    let cases: Vec<(Column, &str)> = vec![
        (
            Column::new("cohort".into(), &[1i64, 2]),
            "column \"cohort\" has type i64; expected text (string or categorical)",
        ),
        (
            Column::new("staged".into(), &[1i32, 0]),
            "column \"staged\" has type i32; expected a boolean, or text (true/false)",
        ),
        (
            Column::new("last_seen".into(), &[1.5f64, 2.0]),
            "column \"last_seen\" has type f64; expected an integer (a tick number)",
        ),
    ];
    for (col, want) in cases {
        let mut cols = base_columns();
        cols.push(col);
        let (_dir, p) = parquet_with(cols);
        let e = load(&p).unwrap_err();
        assert_eq!((e.line, e.message.as_str()), (None, want));
    }
    let mut cols = base_columns();
    cols[0] = Column::new("device_id".into(), &[1u32, 2]);
    let (_dir, p) = parquet_with(cols);
    let e = load(&p).unwrap_err();
    assert!(
        e.message.starts_with("column \"device_id\" has type u32"),
        "{e}"
    );
}

#[test]
fn timestamps_are_refused_with_a_hint() {
    // polars is built without datetime support, so the schema check is what meets a
    // timestamp column (before polars would decode it).
    use polars::prelude::ArrowTimeUnit;
    let ts = ArrowDataType::Timestamp(ArrowTimeUnit::Millisecond, None);
    assert_eq!(arrow_kind(&ts), Kind::Temporal);
    assert!(!accepts(LAST_SEEN, Kind::Temporal));
    assert_eq!(
        type_message(LAST_SEEN, "last_seen", &arrow_type_name(&ts)),
        "column \"last_seen\" has type timestamp[millisecond]; expected an integer (a tick number) (last_seen is a tick number since the scenario start: convert timestamps to ticks first)"
    );
    assert_eq!(arrow_kind(&ArrowDataType::Float64), Kind::Other);
}

#[test]
fn narrow_integer_ticks_nulls_and_all_null_columns() {
    let mut cols = base_columns();
    cols.push(Column::new("last_seen".into(), &[Some(7i32), None]));
    cols.push(Column::new("staged".into(), &[None, Some(true)]));
    cols.push(Column::new("project_key".into(), &[None::<&str>, None]));
    cols.push(Column::new("cohort".into(), &[Some("beta"), None]));
    let (_dir, p) = parquet_with(cols);
    let (c, f) = load(&p).unwrap();
    assert_eq!(
        describe_all(&c, &f),
        [
            "a evt main 1.0.0 beta None false None Some(7)",
            "b evt main 2.0.0 default None true None None",
        ]
    );
}

#[test]
fn null_device_id_in_parquet() {
    let mut cols = base_columns();
    cols[0] = Column::new("device_id".into(), &[Some("a"), None]);
    let (_dir, p) = parquet_with(cols);
    let e = load(&p).unwrap_err();
    assert_eq!(e.message, "row 2: device_id is empty");
}

#[test]
fn ragged_and_quoted_csv() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("f.csv");
    std::fs::write(
        &p,
        "device_id,hardware_version,software_version\na,evt,1.0.0\nb,evt,1.0.0,extra\n",
    )
    .unwrap();
    let e = load(&p).unwrap_err();
    assert_eq!(e.line, Some(3), "{e}");
    std::fs::write(
        &p,
        "device_id,hardware_version,software_version\na,evt,1.0.0\nb,evt\n",
    )
    .unwrap();
    let e = load(&p).unwrap_err();
    assert_eq!(e.line, Some(3), "{e}");
    // A quoted cell over two lines: the error is on the line where its row starts.
    std::fs::write(
        &p,
        "device_id,hardware_version,software_version,cohort\n\"a\nb\",evt,1.0.0,\nc,evt,1.0.0,bta\n",
    )
    .unwrap();
    let e = load(&p).unwrap_err();
    assert_eq!(e.line, Some(4), "{e}");
}

#[test]
fn scenario_error_rendering() {
    let e = ScenarioError {
        file: "fleet.parquet".into(),
        line: None,
        message: "row 1234: device \"SN-9\": unknown cohort \"bta\" (did you mean \"beta\"?)"
            .into(),
    };
    assert_eq!(
        e.to_string(),
        "fleet.parquet: row 1234: device \"SN-9\": unknown cohort \"bta\" (did you mean \"beta\"?)"
    );
}

#[test]
fn csv_written_by_polars_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("round.csv");
    let mut df = spec(HEADER, &["a,evt,1.0.0,beta,,recovery,true,,5"]).frame(false);
    write_csv(&p, &mut df).unwrap();
    let (c, f) = load(&p).unwrap();
    assert_eq!(
        describe_all(&c, &f),
        ["a evt main 1.0.0 beta Some(\"recovery\") true None Some(5)"]
    );
}

/// 300k rows through Parquet (two row groups, so several chunks per column). A debug
/// build reads about 250k rows a second; 1M and 10M rows are `benches/import.rs`.
#[test]
fn many_rows() {
    let n = 300_000;
    let ids: Vec<String> = (0..n).map(|i| format!("SN-{i:07}")).collect();
    let versions = ["1.0.0", "2.0.0", "1.5.0-rc.1", "0.9.0"];
    let cohorts = ["beta", "stable", "default", "beta"];
    let hw = ["evt", "dvt", "pvt"];
    let cols = vec![
        Column::new("device_id".into(), &ids),
        Column::new(
            "hardware_version".into(),
            (0..n).map(|i| hw[i % 3]).collect::<Vec<_>>(),
        ),
        Column::new(
            "software_version".into(),
            (0..n).map(|i| versions[i % 4]).collect::<Vec<_>>(),
        ),
        Column::new(
            "cohort".into(),
            (0..n).map(|i| cohorts[(i / 7) % 4]).collect::<Vec<_>>(),
        ),
        Column::new(
            "last_seen".into(),
            (0..n as i64).map(|i| i % 1000).collect::<Vec<_>>(),
        ),
    ];
    let (_dir, p) = parquet_with(cols);
    let start = std::time::Instant::now();
    let (c, f) = load(&p).unwrap();
    let took = start.elapsed();
    assert_eq!(f.len(), n);
    assert_eq!(
        describe(&c, &f, 123_457),
        "SN-0123457 dvt main 2.0.0 beta None false None Some(457)"
    );
    assert_eq!(f.find("SN-0299999"), Some(DeviceIdx(299_999)));
    eprintln!("{n}-row Parquet import: {took:?}");
}

/// Writes `columns` in each Parquet layout of [`FORMATS`] (and as polars writes
/// them) and loads each file (so both readers, which must agree).
fn load_in_every_layout(columns: &[Column]) -> Vec<Result<(Catalog, Fleet), ScenarioError>> {
    FORMATS
        .iter()
        .filter(|f| !matches!(f, Format::Csv | Format::ParquetCategorical))
        .map(|format| {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("fleet.parquet");
            let mut df = DataFrame::new_infer_height(columns.to_vec()).unwrap();
            match format {
                Format::ParquetLayout(layout) => write_layout(&p, &mut df, layout),
                _ => write_parquet(&p, &mut df).unwrap(),
            }
            load(&p)
        })
        .collect()
}

/// Booleans (PLAIN bits in v1 pages, RLE in v2 pages) and integer ticks (32- and
/// 64-bit, signed and not: what polars is built to write here), with nulls, in every
/// layout.
#[test]
fn booleans_and_integer_ticks_in_every_layout() {
    let ticks = [
        Column::new(
            "last_seen".into(),
            &[Some(-3i32), None, Some(i32::MAX), Some(0)],
        ),
        Column::new(
            "last_seen".into(),
            &[Some(-3i64), None, Some(1 << 30), Some(0)],
        ),
        Column::new(
            "last_seen".into(),
            &[Some(3u32), None, Some(i32::MAX as u32), Some(0)],
        ),
    ];
    for last_seen in ticks {
        let max = last_seen.get(2).unwrap().try_extract::<i64>().unwrap();
        let first = last_seen.get(0).unwrap().try_extract::<i64>().unwrap();
        let columns = [
            Column::new("device_id".into(), &["a", "b", "c", "d"]),
            Column::new("hardware_version".into(), &["evt"; 4]),
            Column::new("software_version".into(), &["1.0.0"; 4]),
            Column::new(
                "staged".into(),
                &[Some(true), None, Some(false), Some(true)],
            ),
            last_seen,
        ];
        for loaded in load_in_every_layout(&columns) {
            let (c, f) = loaded.unwrap();
            assert_eq!(
                describe_all(&c, &f),
                [
                    format!("a evt main 1.0.0 default None true None Some({first})"),
                    "b evt main 1.0.0 default None false None None".to_string(),
                    format!("c evt main 1.0.0 default None false None Some({max})"),
                    "d evt main 1.0.0 default None true None Some(0)".to_string(),
                ]
            );
        }
    }
}

/// An unsigned tick is read as unsigned: `u32::MAX` is out of range, not -1.
#[test]
fn ticks_out_of_range_in_every_layout() {
    for (last_seen, bad) in [
        (
            Column::new("last_seen".into(), &[Some(1u32), None, Some(u32::MAX)]),
            "4294967295",
        ),
        (
            Column::new("last_seen".into(), &[Some(1i64), None, Some(i64::MIN)]),
            "-9223372036854775808",
        ),
        (
            Column::new("last_seen".into(), &[Some(1i32), None, Some(i32::MIN)]),
            "-2147483648",
        ),
        // Issue 14: not "never seen".
        (
            Column::new("last_seen".into(), &[Some(1u64), None, Some(1u64 << 63)]),
            "9223372036854775808",
        ),
    ] {
        let columns = [
            Column::new("device_id".into(), &["a", "b", "c"]),
            Column::new("hardware_version".into(), &["evt"; 3]),
            Column::new("software_version".into(), &["1.0.0"; 3]),
            last_seen,
        ];
        for loaded in load_in_every_layout(&columns) {
            let e = loaded.unwrap_err();
            assert_eq!(
                e.message,
                format!("row 3: device \"c\": last_seen {bad} is out of range")
            );
        }
    }
}

/// Ids in no order go through the hash index, sorted ones through the sorted
/// prefix: both find every device and refuse a duplicate, in every layout.
#[test]
fn ids_in_and_out_of_order() {
    // Small tables in every layout; a big one (indexed shard by shard in parallel)
    // as polars writes it.
    for (n, every_layout) in [(300, true), (100_000, false)] {
        ids_in_and_out_of_order_at(n, every_layout);
    }
}

fn ids_in_and_out_of_order_at(n: usize, every_layout: bool) {
    let sorted: Vec<String> = (0..n).map(|i| format!("SN-{i:06}")).collect();
    let shuffled: Vec<String> = (0..n)
        .map(|i| format!("SN-{:06}", (i * 7919) % n))
        .collect();
    let load_in_every_layout = |columns: &[Column]| {
        if every_layout {
            load_in_every_layout(columns)
        } else {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("fleet.parquet");
            let mut df = DataFrame::new_infer_height(columns.to_vec()).unwrap();
            write_parquet(&p, &mut df).unwrap();
            vec![load(&p)]
        }
    };
    for ids in [sorted, shuffled] {
        let columns = |ids: &[String]| {
            [
                Column::new("device_id".into(), ids),
                Column::new("hardware_version".into(), vec!["evt"; ids.len()]),
                Column::new("software_version".into(), vec!["1.0.0"; ids.len()]),
            ]
        };
        for loaded in load_in_every_layout(&columns(&ids)) {
            let (_, mut f) = loaded.unwrap();
            for (i, id) in ids.iter().enumerate() {
                assert_eq!(f.find(id), Some(DeviceIdx(i as u32)));
            }
            assert_eq!(f.find("SN-999999"), None);
            assert_eq!(f.find("SN-"), None);
            let again = NewDevice {
                id: ids[n / 2].clone(),
                report: f.report(DeviceIdx(0)),
                last_seen: None,
            };
            assert!(f.push(again).is_err(), "a duplicate of an imported id");
        }
        // A duplicate far from its twin: named at its second row.
        let mut dup = ids.clone();
        dup[n - 10] = dup[17].clone();
        for loaded in load_in_every_layout(&columns(&dup)) {
            let e = loaded.unwrap_err();
            assert_eq!(
                e.message,
                format!("row {}: device \"{}\" is defined twice", n - 9, dup[17])
            );
        }
    }
}
