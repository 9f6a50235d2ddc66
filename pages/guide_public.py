"""通いの場ガイド（公開ページ）: residents find places near home by area, weekday, kind, who it is
for and fee, with no sign-in. What it shows and reads: tsunagu/dashboard/public.py."""

from tsunagu.dashboard import gate, public

gate.through_app()  # the navigation runs first (as for every page), but no sign-in is asked
public.page()
