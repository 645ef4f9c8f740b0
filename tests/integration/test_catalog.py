"""The catalog at portfolio scale: search by text (Unicode or punycode), by category including its
subcategories, in pages."""
from __future__ import annotations

from store.catalog import search_domains
from store.models import Category, Domain
from tests.support import unique


async def test_search_and_paging_over_a_large_portfolio(pg_sessions):
    tag = unique("cat")
    async with pg_sessions.begin() as session:
        top = Category(name=f"Top {tag}", slug=f"top-{tag}")
        session.add(top)
        await session.flush()
        sub = Category(name="Sub", slug=f"sub-{tag}", parent_id=top.id)
        session.add(sub)
        await session.flush()
        session.add_all(Domain(name=f"{tag}-{i:04d}.org", category_id=sub.id if i % 2 else top.id, listed=i % 10 != 0)
                        for i in range(1200))
        session.add(Domain(name=f"münchen-{tag}.de".encode("idna").decode(), category_id=top.id, listed=True))

    async with pg_sessions() as session:
        everything = await search_domains(session, category_slug=f"top-{tag}", per_page=100)
        assert everything.total == 1081 and everything.pages == 11  # 1080 listed + 1 IDN, unlisted hidden
        last = await search_domains(session, category_slug=f"top-{tag}", page=99, per_page=100)
        assert last.page == 11 and len(last.domains) == 81            # a page past the end shows the last
        only_sub = await search_domains(session, category_slug=f"sub-{tag}", per_page=100)
        assert only_sub.total == 600                                   # odd numbers: all listed
        found = await search_domains(session, q=f"{tag}-011", per_page=100)
        assert found.domains == [f"{tag}-{i:04d}.org" for i in range(111, 120)]  # 0110 is unlisted
        idn = await search_domains(session, q=f"MÜNCHEN-{tag}.de")
        assert idn.domains == [f"münchen-{tag}.de"]                    # shown in Unicode
        partial = await search_domains(session, q=f"ünchen-{tag}")     # part of the Unicode form
        assert partial.domains == [f"münchen-{tag}.de"]
        punycode = await search_domains(session, q=f"xn--mnchen-{tag}")
        assert punycode.domains == [f"münchen-{tag}.de"]
        assert (await search_domains(session, q="100%_")).total == 0    # LIKE wildcards are literal
        assert (await search_domains(session, category_slug="no-such-category")).total == 0
