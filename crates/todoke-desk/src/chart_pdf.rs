//! A chart for publication as PDF: the PNG the app drew (SVG → canvas, so Japanese
//! titles are already rendered by the system's fonts) placed on one page of its own
//! size, at 144 dpi (the app draws at twice the screen size). A minimal PDF 1.4
//! written here: catalog, pages, one page, its content stream and one RGB image
//! (Flate-compressed), and the title in the document information.

use std::io::Write;
use std::path::Path;

use crate::DeskError;

/// Writes `png` (8-bit, RGB or RGBA; alpha is laid on white) as a one-page PDF.
pub fn write_chart_pdf(path: &Path, png: &[u8], title: &str) -> Result<(), DeskError> {
    let bad = || DeskError::bad_input("PNG画像として読めません。", "The image cannot be read as PNG.");
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(|_| bad())?;
    let mut buf = vec![0; reader.output_buffer_size().ok_or_else(bad)?];
    let frame = reader.next_frame(&mut buf).map_err(|_| bad())?;
    let (w, h) = (frame.width as usize, frame.height as usize);
    let channels = match frame.color_type {
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Indexed => return Err(bad()),
    };
    let mut rgb = Vec::with_capacity(w * h * 3);
    for px in buf[..frame.buffer_size()].chunks_exact(channels) {
        let (r, g, b, a) = match px {
            [v] => (*v, *v, *v, 255),
            [v, a] => (*v, *v, *v, *a),
            [r, g, b] => (*r, *g, *b, 255),
            [r, g, b, a] => (*r, *g, *b, *a),
            _ => unreachable!("chunks of `channels` bytes"),
        };
        let over_white = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        rgb.extend([over_white(r), over_white(g), over_white(b)]);
    }
    let pdf = pdf_of_image(w, h, &rgb, title);
    std::fs::write(path, pdf).map_err(|e| DeskError::io(&path.display().to_string(), e))
}

/// The PDF bytes of one page showing an RGB image (`w` × `h` pixels) at 144 dpi.
pub fn pdf_of_image(w: usize, h: usize, rgb: &[u8], title: &str) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(rgb).expect("compressing into memory");
    let image = z.finish().expect("compressing into memory");
    let (pw, ph) = (w as f64 / 2.0, h as f64 / 2.0);
    let content = format!("q {pw:.2} 0 0 {ph:.2} 0 0 cm /Im1 Do Q");
    // The title as UTF-16BE with a byte-order mark, in hex (any script, no escaping).
    let title_hex: String = std::iter::once(0xFEFFu16).chain(title.encode_utf16()).map(|u| format!("{u:04X}")).collect();
    let objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {pw:.2} {ph:.2}] /Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>")
            .into_bytes(),
        [format!("<< /Length {} >>\nstream\n", content.len()).as_bytes(), content.as_bytes(), b"\nendstream"].concat(),
        [
            format!(
                "<< /Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /FlateDecode /Length {} >>\nstream\n",
                image.len()
            )
            .as_bytes(),
            &image,
            b"\nendstream",
        ]
        .concat(),
        format!("<< /Title <{title_hex}> /Producer (Todoke) >>").into_bytes(),
    ];
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend(body);
        out.extend(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend(format!("trailer\n<< /Size {} /Root 1 0 R /Info 6 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1).as_bytes());
    out
}
