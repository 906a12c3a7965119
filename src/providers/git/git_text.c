/*
 * git_text.c - the small formatting pieces the git tools share: object ids,
 * dates in the two forms git prints, the status letters of
 * `git status --porcelain`, the words of the long status form, and the
 * check of tree paths given as arguments. Pure and thread-safe.
 */
#include <stdio.h>
#include <string.h>

#include "gitp.h"

void gitp_oid_str(const git_oid *oid, char *out)
{
	git_oid_tostr(out, GIT_OID_HEXSZ + 1, oid);
}

/* The broken-down time of t shifted by offset_min minutes. */
static void shifted(git_time_t t, int offset_min, struct tm *tm)
{
	time_t s = (time_t)(t + (git_time_t)offset_min * 60);

	gmtime_r(&s, tm);
}

void gitp_time_iso(git_time_t t, int offset_min, char *out, size_t n)
{
	struct tm tm;
	int off = offset_min < 0 ? -offset_min : offset_min;

	shifted(t, offset_min, &tm);
	snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 offset_min < 0 ? '-' : '+', off / 60, off % 60);
}

void gitp_time_git(git_time_t t, int offset_min, char *out, size_t n)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	int off = offset_min < 0 ? -offset_min : offset_min;

	shifted(t, offset_min, &tm);
	snprintf(out, n, "%s %s %d %02d:%02d:%02d %d %c%02d%02d", days[tm.tm_wday % 7],
		 months[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 tm.tm_year + 1900, offset_min < 0 ? '-' : '+', off / 60, off % 60);
}

char gitp_status_char(unsigned int f, bool index)
{
	if (f & GIT_STATUS_CONFLICTED)
		return 'U';
	if (f & GIT_STATUS_IGNORED)
		return '!';
	if (f & GIT_STATUS_WT_NEW)
		return '?';
	if (index) {
		if (f & GIT_STATUS_INDEX_NEW)
			return 'A';
		if (f & GIT_STATUS_INDEX_DELETED)
			return 'D';
		if (f & GIT_STATUS_INDEX_RENAMED)
			return 'R';
		if (f & GIT_STATUS_INDEX_TYPECHANGE)
			return 'T';
		if (f & GIT_STATUS_INDEX_MODIFIED)
			return 'M';
		return ' ';
	}
	if (f & GIT_STATUS_WT_DELETED)
		return 'D';
	if (f & GIT_STATUS_WT_RENAMED)
		return 'R';
	if (f & GIT_STATUS_WT_TYPECHANGE)
		return 'T';
	if (f & GIT_STATUS_WT_MODIFIED)
		return 'M';
	return ' ';
}

const char *gitp_delta_word(char code)
{
	switch (code) {
	case 'A':
		return "new file";
	case 'D':
		return "deleted";
	case 'R':
		return "renamed";
	case 'T':
		return "typechange";
	case 'C':
		return "copied";
	case 'U':
		return "both modified";
	default:
		return "modified";
	}
}

const char *gitp_delta_status(git_delta_t s)
{
	switch (s) {
	case GIT_DELTA_ADDED:
		return "added";
	case GIT_DELTA_DELETED:
		return "deleted";
	case GIT_DELTA_MODIFIED:
		return "modified";
	case GIT_DELTA_RENAMED:
		return "renamed";
	case GIT_DELTA_COPIED:
		return "copied";
	case GIT_DELTA_TYPECHANGE:
		return "typechange";
	case GIT_DELTA_UNTRACKED:
		return "untracked";
	case GIT_DELTA_IGNORED:
		return "ignored";
	case GIT_DELTA_CONFLICTED:
		return "conflicted";
	case GIT_DELTA_UNREADABLE:
		return "unreadable";
	default:
		return "unmodified";
	}
}

bool gitp_path_ok(const char *p, bool allow_root)
{
	const char *s = p;

	if (!p)
		return false;
	if (!*p)
		return allow_root;
	if (*p == '/')
		return false;
	while (*s) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 0 && e && !e[1])
			return true; /* one trailing '/' names a directory */
		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		s += n;
		if (*s)
			s++;
	}
	return true;
}
