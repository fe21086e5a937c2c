"""GraphiQL at ``/graphql`` for a browser, and the demo tokens its role picker offers.

The page works on first load: no placeholder header (the schema loads on first view, anonymous
callers may introspect outside production), the headers pane is kept across reloads (GraphiQL's
own storage), and in a demo or development hub a picker above it acts as a role whose token the
hub hands out from ``/demo/tokens``. That endpoint exists only in development or with
``BILIM_DEMO=true``, and never in production, where a token comes from the identity provider or
``bilim token``. The scripts and styles are the hub's local copy (resolvers/assets.py)."""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse

from resolvers import demo as demo_service
from resolvers.access import issue_token
from resolvers.assets import CDN
from resolvers.settings import Settings

DEMO_TOKENS_PATH = "/demo/tokens"
DEMO_TOKEN_MINUTES = 60


def demo_tokens_served(settings: Settings) -> bool:
    """Does the hub hand out demo tokens? In development, or with demo data outside
    production; never in production, whatever else is set."""
    if settings.environment == "production":
        return False
    return settings.environment == "development" or settings.demo


async def demo_tokens(request: Request) -> JSONResponse:
    """``/demo/tokens``: a short-lived token for each role the picker offers."""
    state = request.app.state
    settings: Settings = state.settings
    async with AsyncSession(state.engine) as session:
        found = await demo_service.personas(session)
    personas = [
        {
            "key": p.key,
            "label": p.label,
            "role": p.role.value,
            "token": issue_token(
                state.keyring,
                settings,
                role=p.role,
                person_id=p.person_id,
                scopes=list(p.scopes),
                ttl_minutes=DEMO_TOKEN_MINUTES,
            ),
        }
        for p in found
    ]
    return JSONResponse(
        {"personas": personas, "expiresInMinutes": DEMO_TOKEN_MINUTES},
        headers={"cache-control": "no-store"},
    )


def page(*, local: bool, demo: bool, endpoint: str = "/graphql") -> str:
    """The GraphiQL page: local assets when installed (otherwise the CDN, with a note), and the
    role picker when the hub hands out demo tokens."""

    def src(name: str) -> str:
        return f"/graphiql/{name}" if local else CDN[name]

    note = (
        ""
        if local
        else (
            '<div class="note">GraphiQL is loading from a CDN because the local copy is '
            "missing. Run <code>bilim assets install</code> on the server to serve it "
            "offline.</div>"
        )
    )
    config = json.dumps(
        {"endpoint": endpoint, "tokens": DEMO_TOKENS_PATH if demo else None}
    ).replace("<", "\\u003c")
    return _PAGE.format(
        css=src("graphiql.css"),
        react=src("react.js"),
        react_dom=src("react-dom.js"),
        graphiql=src("graphiql.js"),
        note=note,
        config=config,
    )


_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Bilim Hub - GraphiQL</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="{css}">
  <style>
    html, body {{ height: 100%; margin: 0; }}
    body {{ display: flex; flex-direction: column; }}
    #bar {{ display: flex; gap: 12px; align-items: center; padding: 6px 12px;
            font: 14px sans-serif; border-bottom: 1px solid #ddd; }}
    #bar[hidden] {{ display: none; }}
    .note {{ padding: 6px 12px; background: #fff3cd; font: 14px sans-serif; }}
    #graphiql {{ flex: 1; min-height: 0; }}
  </style>
</head>
<body>
  {note}
  <div id="bar">
    <label id="picker" hidden>Act as
      <select id="persona"><option value="">Anonymous (public data only)</option></select>
    </label>
    <span id="hint"></span>
  </div>
  <div id="graphiql">Loading GraphiQL...</div>
  <script src="{react}"></script>
  <script src="{react_dom}"></script>
  <script src="{graphiql}"></script>
  <script>
    const CONFIG = {config};
    const CHOSEN = "bilim:graphiql:persona";
    const root = ReactDOM.createRoot(document.getElementById("graphiql"));
    const select = document.getElementById("persona");
    let personas = [];

    function show(key) {{
      const persona = personas.find((p) => p.key === key);
      // The picked role's token rides on the fetcher, so the headers pane stays the user's
      // (what is typed there wins, and GraphiQL keeps it across reloads).
      const headers = persona ? {{ Authorization: "Bearer " + persona.token }} : {{}};
      const fetcher = GraphiQL.createFetcher({{ url: CONFIG.endpoint, headers }});
      root.render(React.createElement(GraphiQL, {{
        key: key || "anonymous",
        fetcher,
        shouldPersistHeaders: true,
        defaultEditorToolsVisibility: true,
      }}));
      document.body.dataset.persona = key || "anonymous";
    }}

    async function start() {{
      const hint = document.getElementById("hint");
      if (CONFIG.tokens) {{
        try {{
          const answer = await fetch(CONFIG.tokens);
          if (answer.ok) personas = (await answer.json()).personas;
        }} catch (err) {{
          personas = [];
        }}
      }}
      if (personas.length) {{
        for (const p of personas) select.add(new Option(p.label, p.key));
        const saved = localStorage.getItem(CHOSEN);
        const key = saved !== null && (saved === "" || personas.some((p) => p.key === saved))
          ? saved : personas[0].key;
        select.value = key;
        select.addEventListener("change", () => {{
          localStorage.setItem(CHOSEN, select.value);
          show(select.value);
        }});
        document.getElementById("picker").hidden = false;
        hint.textContent = "Demo tokens from this hub, valid for an hour; a token in the " +
          "Headers pane wins.";
        show(key);
      }} else {{
        hint.textContent = 'To sign in, put {{"Authorization": "Bearer <token>"}} in the ' +
          "Headers pane below; it is kept across reloads.";
        show("");
      }}
    }}
    start();
  </script>
</body>
</html>"""
