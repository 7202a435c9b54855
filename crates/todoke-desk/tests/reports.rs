//! Statistics on a real encrypted desk: the packed report rows (`case_stat`)
//! give exactly what parsing every case document gives — after creation,
//! edits, soft deletion and the v2 migration of an older desk.

mod common;

use todoke_desk::DeskService;
use todoke_domain::{CurrentStatus, Deletion};
use todoke_reports::{compute_all, ReportOptions, ReportRow};
use todoke_store::{CaseQuery, MemoryKeys};

fn sorted(mut rows: Vec<ReportRow>) -> Vec<ReportRow> {
    rows.sort_by_key(|r| r.id);
    rows
}

fn assert_same(d: &DeskService) -> usize {
    let packed = sorted(d.report_rows().unwrap());
    let documents = sorted(d.report_rows_from_documents().unwrap());
    assert_eq!(packed.len(), documents.len());
    assert!(packed == documents, "packed rows differ from the documents' rows");
    let clusters = d.store().clusters().unwrap();
    let opts = ReportOptions::default();
    assert_eq!(d.indicators(None, &opts).unwrap(), compute_all(&documents, &clusters, &opts));
    packed.len()
}

#[test]
fn packed_report_rows_equal_the_documents_rows() {
    let (tmp, mut d) = common::desk();
    d.generate(3_000, 5, 120, &mut |_, _| {}).unwrap();
    d.create_case(common::sample(1)).unwrap();
    assert_eq!(assert_same(&d), 3_001);

    // Edits that move counts: a status change, a death, a soft deletion.
    let ids: Vec<_> = d.search(&CaseQuery { limit: Some(30), ..Default::default() }).unwrap().into_iter().map(|s| s.id).collect();
    let before = d.indicators(None, &ReportOptions::default()).unwrap();
    d.set_status_many(&ids[..10], CurrentStatus::HospitalisedSevere).unwrap();
    for id in &ids[10..20] {
        let mut c = d.get(*id).unwrap();
        c.measures.current_status = Some(CurrentStatus::Died);
        c.notification.death_date = c.notification.diagnosis_date;
        let actor = d.actor().clone();
        d.store_mut().update_case(&c, &actor).unwrap();
    }
    for id in &ids[20..30] {
        let mut c = d.get(*id).unwrap();
        c.deleted = Some(Deletion { on: c.notification.report_date.unwrap(), by: "hc-staff-01".into(), reason: "重複登録".into() });
        let actor = d.actor().clone();
        d.store_mut().update_case(&c, &actor).unwrap();
    }
    assert_eq!(assert_same(&d), 2_991);
    assert_ne!(d.indicators(None, &ReportOptions::default()).unwrap(), before, "the edits changed the statistics");

    // A desk from before case_stat (schema v1): the migration fills it.
    let dir = d.dir().to_path_buf();
    let actor = d.actor().clone();
    drop(d);
    let raw = rusqlite::Connection::open(dir.join("desk.db")).unwrap();
    raw.execute_batch(&format!("PRAGMA key = \"x'{}'\"; DROP TABLE case_stat; DROP TABLE sync_base; DROP TABLE sync_orphan; DROP TABLE published_count; DROP TABLE published_import; PRAGMA user_version = 1;", "07".repeat(32))).unwrap();
    drop(raw);
    let reopened = DeskService::open(&dir, &MemoryKeys::fixed([7; 32]), actor).unwrap();
    assert_eq!(assert_same(&reopened), 2_991);
    drop(tmp);
}

/// What the app's Reports screen receives: suppressed cells marked, numbers
/// for the charts, both languages; CSV export of one indicator.
#[test]
fn report_views_mark_suppressed_cells_and_export() {
    let (tmp, mut d) = common::desk();
    d.generate(400, 9, 60, &mut |_, _| {}).unwrap();
    let all = d.report_views(&todoke_desk::ReportRequest::default()).unwrap();
    assert_eq!(all.len(), 11);
    assert_eq!(all[0].slug, "new-positives");
    let request = todoke_desk::ReportRequest { indicator: Some("4".into()), ..Default::default() };
    let pyramid = &d.report_views(&request).unwrap()[0];
    let hidden: Vec<_> = pyramid.rows.iter().flatten().filter(|c| c.suppressed).collect();
    assert!(!hidden.is_empty());
    assert!(hidden.iter().all(|c| c.value.is_none() && c.ja == "*"));
    let sex = pyramid.columns.iter().position(|c| c.key == "sex").unwrap();
    let ages = sex + 1..pyramid.columns.iter().position(|c| c.key == "total").unwrap();
    for row in pyramid.rows.iter().filter(|r| r[sex].code.as_deref() != Some("total")) {
        assert!(row[ages.clone()].iter().filter_map(|c| c.value).all(|v| v == 0.0 || v >= 5.0), "a published small cell");
    }
    assert_eq!(pyramid.rows[0][sex].code.as_deref(), Some("male"));
    assert_eq!((pyramid.rows[0][sex].ja.as_str(), pyramid.rows[0][sex].en.as_str()), ("男", "Male"));

    let path = tmp.path().join("pyramid.csv");
    d.export_report(&path, &request, todoke_desk::ExportEncoding::Utf8Bom, false).unwrap();
    let text = String::from_utf8(std::fs::read(&path).unwrap()).unwrap();
    assert!(text.starts_with("\u{feff}週の初日,週の末日,性別,"), "{text}");
    assert!(text.contains(",*,") && text.contains("\r\n"));
    assert!(d.export_report(&path, &todoke_desk::ReportRequest::default(), todoke_desk::ExportEncoding::Utf8Bom, false).is_err());

    let png = tmp.path().join("chart.png");
    assert!(todoke_desk::write_png(&png, b"<svg/>").is_err(), "only PNG bytes are written");
    todoke_desk::write_png(&png, b"\x89PNG\r\n\x1a\nrest").unwrap();

    let quality = d.quality_view().unwrap();
    assert_eq!(quality.slug, "quality");
    assert!(quality.columns.iter().any(|c| c.key == "case_id"));
}

/// A chart PNG becomes a one-page PDF whose image is the PNG's pixels (alpha laid on
/// white), whose cross-reference table points at every object, titled in Japanese.
#[test]
fn a_chart_png_becomes_a_pdf_page_with_the_same_pixels() {
    use std::io::Read;
    let (w, h) = (4u32, 3u32);
    let mut rgba = Vec::new();
    for i in 0..w * h {
        rgba.extend([(i * 20) as u8, 100, 200, if i == 0 { 0 } else { 255 }]);
    }
    let mut png = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png, w, h);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        enc.write_header().unwrap().write_image_data(&rgba).unwrap();
    }
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("chart.pdf");
    todoke_desk::write_chart_pdf(&path, &png, "新規陽性者数の推移").unwrap();
    let pdf = std::fs::read(&path).unwrap();
    assert!(pdf.starts_with(b"%PDF-1.4") && pdf.ends_with(b"%%EOF\n"));
    let find = |needle: &[u8], from: usize| pdf[from..].windows(needle.len()).position(|x| x == needle).map(|p| p + from);
    let rfind = |needle: &[u8]| pdf.windows(needle.len()).rposition(|x| x == needle);
    let ascii = |from: usize, len: usize| String::from_utf8(pdf[from..from + len].to_vec()).unwrap();
    // Every xref entry points at "n 0 obj" (byte offsets).
    let xref = rfind(b"xref\n0 ").unwrap();
    let startxref = rfind(b"startxref\n").unwrap() + 10;
    assert_eq!(ascii(startxref, pdf.len() - startxref).lines().next().unwrap().parse::<usize>().unwrap(), xref);
    let table = ascii(xref, startxref - 10 - xref);
    for (n, line) in table.lines().skip(3).take(6).enumerate() {
        let at: usize = line[..10].parse().unwrap();
        let head = format!("{} 0 obj", n + 1);
        assert_eq!(ascii(at, head.len()), head, "object {} at {at}", n + 1);
    }
    assert!(find(b"/MediaBox [0 0 2.00 1.50]", 0).is_some(), "144 dpi");
    let title: String = "新規陽性者数の推移".encode_utf16().map(|u| format!("{u:04X}")).collect();
    assert!(find(format!("/Title <FEFF{title}>").as_bytes(), 0).is_some());
    // The image stream inflates to the pixels: the transparent one white, the others as drawn.
    let start = find(b"/Subtype /Image", 0).unwrap();
    let data_at = find(b"stream\n", start).unwrap() + 7;
    let mut pixels = Vec::new();
    flate2::read::ZlibDecoder::new(&pdf[data_at..]).read_to_end(&mut pixels).unwrap();
    assert_eq!(pixels.len(), (w * h * 3) as usize);
    assert_eq!(&pixels[..3], &[255, 255, 255]);
    assert_eq!(&pixels[3..6], &[20, 100, 200]);
    assert!(todoke_desk::write_chart_pdf(&path, b"not a png", "x").is_err());
}
