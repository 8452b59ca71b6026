package docexchange

import (
	"archive/zip"
	"bytes"
	"io"
	"path"
	"strings"
	"time"
)

// maxZipRatio bounds how much larger a zipped attachment may become once unzipped (chosen:
// documents, scans and office files compress far less; a zip bomb compresses by thousands).
const (
	maxZipRatio     = 200
	zipRatioFloor   = 1 << 20 // below this unzipped size the ratio is not checked
	zipMagic        = "PK\x03\x04"
	defaultZipEntry = "attachment"
)

// unzipAttachment reads an attachment of the national form: the file zipped. A zip of one
// file gives that file; anything else (not a zip, or an archive of several files such as a
// .docx sent unzipped) is the file itself. The unzipped size is bounded by limit and by
// maxZipRatio times the zipped size.
func unzipAttachment(raw []byte, limit int64) ([]byte, bool, error) {
	r, zipped, err := openZipped(bytes.NewReader(raw), int64(len(raw)), limit)
	if err != nil || !zipped {
		if err != nil {
			return nil, false, err
		}
		return raw, false, nil
	}
	defer r.(io.Closer).Close()
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// zipAttachment zips one file under its name, as the national SDK sends attachments.
func zipAttachment(name string, content []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	entry := path.Base(strings.ReplaceAll(name, "\\", "/"))
	if entry == "" || entry == "." || entry == "/" {
		entry = defaultZipEntry
	}
	w, err := zw.CreateHeader(&zip.FileHeader{Name: entry, Method: zip.Deflate, Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(content); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// contentTypeOf is the MIME type of a file name's extension, for attachments that arrive
// as application/zip (a fixed table, so every machine answers the same).
func contentTypeOf(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".pdf":
		return "application/pdf"
	case ".doc":
		return "application/msword"
	case ".docx":
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	case ".xls":
		return "application/vnd.ms-excel"
	case ".xlsx":
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case ".odt":
		return "application/vnd.oasis.opendocument.text"
	case ".ods":
		return "application/vnd.oasis.opendocument.spreadsheet"
	case ".txt":
		return "text/plain"
	case ".xml", ".edxml":
		return "application/xml"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".png":
		return "image/png"
	case ".tif", ".tiff":
		return "image/tiff"
	case ".zip":
		return "application/zip"
	}
	return "application/octet-stream"
}
