/* rp_html.h — reduce an HTML mail body to plain text.
 *
 * Tags are removed, <script>, <style>, <head> and <blockquote> (quoted
 * history in mail clients) are dropped with their content, block elements and
 * <br> become line breaks, runs of white space collapse, and character
 * references (&amp; &eacute; &#8364; &#x20AC;) are decoded. Never fails on
 * malformed markup: whatever cannot be read as a tag is text.
 *
 * Returns a new UTF-8 string the caller frees; NULL on ENOMEM.
 */
#ifndef RP_HTML_H
#define RP_HTML_H

#include <stddef.h>

char *rp_html_to_text(const char *html, size_t len);

#endif
