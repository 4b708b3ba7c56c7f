#!/usr/bin/env python3
"""Compare the generated holiday files with an independent reference.

Reference: `workalendar` (different maintainers and code base from
python-holidays: its own Easter, Hijri (via convertdate/pyluach) and Chinese
lunar (lunardate) computations).

    /tmp/hol/bin/pip install workalendar hijridate
    /tmp/hol/bin/python config/holidays/compare.py [--verbose]

1. For every country both cover, over the years of our files, a (country,
   date) pair counts as agreed when both call that date a holiday.
   "business days" counts only dates on our weekdays, the ones that change a
   delivery time. Country-years workalendar cannot compute are left out.
2. Moving feasts for the countries workalendar lacks (the Gulf): the first
   day of Eid al-Fitr (1 Shawwal) and of Eid al-Adha (10 Dhu al-Hijjah) by the
   Umm al-Qura calendar (`hijridate`), and Lunar New Year (`lunardate`), must
   be holidays in our files: exactly, or within a day (countries that follow
   their own moon sighting or astronomical calculation).
"""

import datetime
import glob
import os
import sys
import tomllib
import warnings

from workalendar.registry import registry

warnings.filterwarnings("ignore")
verbose = "--verbose" in sys.argv
here = os.path.dirname(os.path.abspath(__file__))
DAY = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

tot_agree = tot_ours = tot_theirs = 0
biz_agree = biz_ours = biz_theirs = 0
rows = []
missing = []
for path in sorted(glob.glob(os.path.join(here, "*.toml"))):
    data = tomllib.load(open(path, "rb"))
    cc = data["country"]
    cal_cls = registry.get(cc)
    if cal_cls is None:
        missing.append(cc)
        continue
    cal = cal_cls()
    y0, y1 = data["years"]
    ours = {datetime.date.fromisoformat(h["date"]): h["name"] for h in data["holidays"]}
    theirs, skipped = {}, set()
    for y in range(y0, y1 + 1):
        try:
            for d, n in cal.holidays(y):
                theirs[d] = n
        except Exception as e:  # workalendar raises for years it cannot compute
            skipped.add(y)
            print(f"{cc} {y}: workalendar cannot compute: {e}", file=sys.stderr)
    if len(skipped) == y1 - y0 + 1:
        missing.append(cc + "(no years)")
        continue
    ours = {d: n for d, n in ours.items() if d.year not in skipped}
    weekend = {DAY.index(d) for d in data["weekend"]}
    a, o, t = set(ours) & set(theirs), set(ours) - set(theirs), set(theirs) - set(ours)
    biz = lambda s: {d for d in s if d.weekday() not in weekend}
    tot_agree += len(a); tot_ours += len(o); tot_theirs += len(t)
    biz_agree += len(biz(a)); biz_ours += len(biz(o)); biz_theirs += len(biz(t))
    rows.append((cc, len(a), len(o), len(t), len(biz(a)), len(biz(o)), len(biz(t))))
    if verbose and (o or t):
        print(f"--- {cc}")
        for d in sorted(o):
            print(f"  only python-holidays {d} {DAY[d.weekday()]} {ours[d]}")
        for d in sorted(t):
            print(f"  only workalendar     {d} {DAY[d.weekday()]} {theirs[d]}")

print(f"{'cc':4}{'agree':>7}{'onlyPH':>8}{'onlyWA':>8} | business days:{'agree':>6}{'onlyPH':>8}{'onlyWA':>8}")
for r in rows:
    print(f"{r[0]:4}{r[1]:>7}{r[2]:>8}{r[3]:>8} |               {r[4]:>6}{r[5]:>8}{r[6]:>8}")
n = tot_agree + tot_ours + tot_theirs
nb = biz_agree + biz_ours + biz_theirs
print(f"countries compared: {len(rows)}; not in workalendar: {' '.join(missing) or 'none'}")
print(f"all dates: {tot_agree} of {n} pairs agree ({100*tot_agree/n:.1f}%), "
      f"{tot_ours} only in ours, {tot_theirs} only in workalendar")
print(f"business days: {biz_agree} of {nb} pairs agree ({100*biz_agree/nb:.1f}%), "
      f"{biz_ours} only in ours, {biz_theirs} only in workalendar")

# 2. Moving feasts.
from hijridate import Hijri
from lunardate import LunarDate

ISLAMIC = "SA AE QA KW BH OM EG JO IQ DZ MA TN TR ID MY BD PK LB IR NG SG IN PH KE".split()
LUNAR = "CN HK TW MO SG MY KR VN ID PH".split()
exact = near = miss = 0
misses = []
for path in sorted(glob.glob(os.path.join(here, "*.toml"))):
    data = tomllib.load(open(path, "rb"))
    cc = data["country"]
    y0, y1 = data["years"]
    ours = {datetime.date.fromisoformat(h["date"]) for h in data["holidays"]}
    feasts = []
    if cc in ISLAMIC:
        for hy in range(1440, 1460):
            for m, d, what in ((10, 1, "Eid al-Fitr"), (12, 10, "Eid al-Adha")):
                g = Hijri(hy, m, d).to_gregorian()
                g = datetime.date(g.year, g.month, g.day)
                if y0 <= g.year <= y1:
                    feasts.append((g, what))
    if cc in LUNAR:
        for y in range(y0, y1 + 1):
            feasts.append((LunarDate(y, 1, 1).toSolarDate(), "Lunar New Year"))
    for g, what in feasts:
        if g in ours:
            exact += 1
        elif any(g + datetime.timedelta(days=k) in ours for k in (-1, 1)):
            near += 1
            misses.append(f"{cc} {what} {g}: ours a day off")
        else:
            miss += 1
            misses.append(f"{cc} {what} {g}: NOT a holiday in ours")
print(f"moving feasts (hijridate Umm al-Qura, lunardate): {exact} exact, {near} within a day, "
      f"{miss} missing, of {exact + near + miss}")
for m in misses:
    if verbose or "NOT" in m:
        print("  " + m)
