"""The demo portfolio `make run` loads: 60 domains in categories and subcategories, reserved names."""
from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.terms import add_years
from store.models import Category, Domain, DomainBackup, ReservedName

PORTFOLIO: dict[str, dict[str, list[str]]] = {
    "Music": {
        "Instruments": ["accordionist.org", "violinist.net", "cellist.org", "pianoteacher.net", "drummer.us",
                        "guitarist.info", "harpist.org", "trumpeter.net"],
        "Voice": ["sopranos.org", "baritone.net", "choirsinger.com", "cantor.us"],
    },
    "Dance": {
        "Styles": ["tangodancer.net", "balletdancer.org", "salsadancer.com", "tapdancer.org"],
        "Professions": ["dancetherapist.com", "choreographer.org", "danceteacher.net"],
    },
    "Teaching": {
        "Languages": ["hebrewtutor.org", "frenchtutor.net", "latintutor.org", "spanishtutor.us"],
        "Faith": ["torahtutor.org", "biblestudent.net", "sundayschool.org"],
        "Schools": ["topteachers.net", "headteacher.org", "schoolcounselor.net"],
    },
    "Family": {
        "Surnames": ["garciafamily.com", "smithfamily.net", "nguyenfamily.org", "mullerfamily.net",
                     "kowalskifamily.com", "obrienfamily.org"],
        "Roles": ["proudgrandma.com", "proudgrandpa.com", "newdad.org"],
    },
    "Hobbies": {
        "Collecting": ["dollcollectors.org", "stampcollector.net", "coincollector.org"],
        "Outdoors": ["birdwatcher.org", "flyfisherman.net", "rockclimber.org", "gardener.us"],
    },
    "Service": {
        "Veterans": ["armyveterans.us", "navyveterans.us", "marineveteran.org"],
        "Health": ["nursepractitioner.net", "physicaltherapist.org", "midwives.net"],
    },
    "Places": {
        "Cities": ["münchen-fans.de", "parisien.net", "londoner.org"],
    },
}
UNLISTED = ["armyvets.us", "navyvets.us"]  # backups, not in the catalog
BACKUPS = {"armyveterans.us": ["armyvets.us"], "navyveterans.us": ["navyvets.us"],
           "hebrewtutor.org": ["torahtutor.org"], "proudgrandma.com": ["proudgrandpa.com"]}
GLOBAL_RESERVED = ["postmaster", "abuse", "hostmaster", "webmaster", "admin*", "root", "support", "help", "info",
                   "noreply", "no-reply", "mailer-daemon", "security", "billing", "sales"]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def demo_expiry(index: int, today: date) -> date:
    """A spread of registrations: some run out within a year (so orders extend them), most later."""
    return add_years(today, 1 + index % 4) - timedelta(days=(index * 37) % 300)


async def load_demo(session: AsyncSession, today: date) -> list[tuple[str, date]]:
    """Idempotent: loads nothing when domains exist already. Returns (domain, expiry) to register."""
    if (await session.execute(select(func.count(Domain.id)))).scalar_one():
        return [(d.name, d.registrar_expiry) for d in (await session.execute(select(Domain))).scalars()]
    index = 0
    loaded = []
    for top_name, subs in PORTFOLIO.items():
        top = Category(name=top_name, slug=slug(top_name))
        session.add(top)
        await session.flush()
        for sub_name, names in subs.items():
            sub = Category(name=sub_name, slug=slug(f"{top_name}-{sub_name}"), parent_id=top.id)
            session.add(sub)
            await session.flush()
            for name in names:
                ascii_name = name.encode("idna").decode()
                expiry = demo_expiry(index, today)
                session.add(Domain(name=ascii_name, category_id=sub.id, listed=True, registrar_expiry=expiry))
                loaded.append((ascii_name, expiry))
                index += 1
    for name in UNLISTED:
        expiry = demo_expiry(index, today)
        session.add(Domain(name=name, category_id=None, listed=False, registrar_expiry=expiry))
        loaded.append((name, expiry))
        index += 1
    await session.flush()
    ids = {d.name: d.id for d in (await session.execute(select(Domain))).scalars()}
    for name, backups in BACKUPS.items():
        session.add_all(DomainBackup(domain_id=ids[name], backup_id=ids[b], position=i) for i, b in enumerate(backups))
    for pattern in GLOBAL_RESERVED:
        session.add(ReservedName(domain_id=None, pattern=pattern, reason="role or system name"))
    return loaded
