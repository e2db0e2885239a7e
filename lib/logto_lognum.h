/* Every log line of the project starts with one of these tags, so a line in a
 * site's error log can be found in the source. Numbers are never reused.
 * 01xx: module glue, 02xx: key store and fetches, 03xx: token cache. */
#ifndef LOGTO_LOGNUM_H
#define LOGTO_LOGNUM_H

#define LOGTO0101 "LOGTO0101: " /* token rejected (reason) */
#define LOGTO0102 "LOGTO0102: " /* Require denied */
#define LOGTO0103 "LOGTO0103: " /* keys unavailable: 503 */
#define LOGTO0104 "LOGTO0104: " /* Require lines ORed directly in a section */
#define LOGTO0105 "LOGTO0105: " /* AuthType Logto without audience/organization requirement */
#define LOGTO0106 "LOGTO0106: " /* Require expression evaluation failed */
#define LOGTO0107 "LOGTO0107: " /* authenticated (debug) */
#define LOGTO0108 "LOGTO0108: " /* configuration problem found at request time */
#define LOGTO0109 "LOGTO0109: " /* start-up: refresher thread */
#define LOGTO0110 "LOGTO0110: " /* AuthType Logto without LogtoIssuer */
#define LOGTO0111 "LOGTO0111: " /* a file the children cannot read */
#define LOGTO0112 "LOGTO0112: " /* a Require value that can match nothing */

#define LOGTO0201 "LOGTO0201: " /* fetch done (issuer, url, status, keys, duration) */
#define LOGTO0202 "LOGTO0202: " /* fetch failed */
#define LOGTO0203 "LOGTO0203: " /* serving stale keys after a failed refresh */
#define LOGTO0204 "LOGTO0204: " /* keys past max stale: dropped */
#define LOGTO0205 "LOGTO0205: " /* discovery issuer mismatch */
#define LOGTO0206 "LOGTO0206: " /* JWKS member skipped */
#define LOGTO0207 "LOGTO0207: " /* unknown kid: refetch / rate limited */
#define LOGTO0208 "LOGTO0208: " /* key removed from the set */
#define LOGTO0209 "LOGTO0209: " /* jwks_uri from discovery refused */

#define LOGTO0301 "LOGTO0301: " /* shared cache unavailable: skipped */
#define LOGTO0302 "LOGTO0302: " /* shared cache value refused */
#define LOGTO0303 "LOGTO0303: " /* cache key not computed: caches skipped */

#endif /* LOGTO_LOGNUM_H */
