import NIOHTTP1

extension ConsoleFiles {
    /// The console's file `name` (a file of console/, as `ConsoleFiles.files` embeds it), or 404.
    ///
    /// Headers: the content type by extension; `no-cache` (the files change with the binary, and are small);
    /// `nosniff`; and a Content-Security-Policy that lets the page load only its own files and talk only to this
    /// server (thumbnails are data: URLs, recordings blob: URLs): no CDN can be added by accident, and an item's
    /// metadata, shown as text, could not run script even if it were inserted as markup.
    static func response(for name: String) throws(RouteError) -> HTTPResponse {
        guard let text = files[name], let dot = name.lastIndex(of: ".") else {
            throw RouteError(httpStatus: .notFound, message: "the console has no file '\(name)'; open / for the console")
        }
        let type = switch name[dot...] {
        case ".html": "text/html; charset=utf-8"
        case ".css": "text/css; charset=utf-8"
        case ".js": "text/javascript; charset=utf-8"
        case ".svg": "image/svg+xml"
        default: "text/plain; charset=utf-8"
        }
        let headers: HTTPHeaders = [
            "content-type": type, "cache-control": "no-cache", "x-content-type-options": "nosniff",
            "content-security-policy": "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
                + "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
        ]
        return HTTPResponse(status: .ok, headers: headers, body: Array(text.utf8))
    }
}
