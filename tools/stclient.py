"""A person's browser tab as the Streamlit server sees it, without the browser: the app's own
websocket protocol (`/_stcore/stream`, BackMsg protobufs up, ForwardMsg protobufs down).

The load run uses it so that twenty people cost the machine twenty sockets, not twenty
Chromiums, and what is measured is the server. Written against Streamlit 1.67 (its Starlette
server); the protocol is internal to Streamlit and may change with another version.
"""

from __future__ import annotations

import asyncio
import re
import ssl
import time
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

FINISHED = {
    ForwardMsg.FINISHED_SUCCESSFULLY: "FINISHED_SUCCESSFULLY",
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "FINISHED_WITH_COMPILE_ERROR",
    ForwardMsg.FINISHED_EARLY_FOR_RERUN: "FINISHED_EARLY_FOR_RERUN",
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "FINISHED_FRAGMENT_RUN_SUCCESSFULLY",
}


class StreamError(Exception):
    """The run did not end as a browser would see it end well: timeout, disconnect, a
    failed finish or a message this client cannot read."""


@dataclass
class Run:
    """What one script run drew, as the browser would hold it when the run finished."""

    seconds: float  # from sending the rerun to its script_finished
    elements: dict[tuple[int, ...], object] = field(default_factory=dict)  # delta path -> Element
    exceptions: list[str] = field(default_factory=list)

    def texts(self) -> list[str]:
        """Markdown, headings and alerts as they read (Markdown escapes removed)."""
        out = []
        for el in self.elements.values():
            kind = el.WhichOneof("type")
            if kind in ("markdown", "heading", "alert"):
                out.append(re.sub(r"\\(.)", r"\1", getattr(el, kind).body))
        return out

    def metrics(self) -> dict[str, str]:
        """Each st.metric's value as shown, by its label."""
        out = {}
        for el in self.elements.values():
            if el.WhichOneof("type") == "metric":
                out[el.metric.label] = el.metric.body
        return out

    def widget(self, key: str):
        """The widget with this user key (Streamlit ends its generated ids with `-key`)."""
        for el in self.elements.values():
            kind = el.WhichOneof("type")
            inner = getattr(el, kind) if kind else None
            if getattr(inner, "id", "").endswith(f"-{key}"):
                return inner
        return None


class StreamClient:
    """One session. Not thread-safe: one coroutine drives it, one run at a time.

    Straight to a dashboard process on loopback (`port`), or through the proxy (`url`, e.g.
    https://127.0.0.1:8443, with an `ssl_context` that trusts its certificate: wss://).
    `cookies` are sent with the websocket's request, as a browser sends the site's cookies
    (the proxy's sticky cookie among them); `set_cookies` holds what the answer set."""

    def __init__(
        self,
        port: int | None = None,
        timeout: float = 120.0,
        *,
        url: str = "",
        ssl_context: ssl.SSLContext | None = None,
        cookies: dict[str, str] | None = None,
    ):
        base = url.rstrip("/") or f"http://127.0.0.1:{port}"
        self.url = "ws" + base.removeprefix("http") + "/_stcore/stream"  # http -> ws, https -> wss
        self.page_url = base + "/"
        self.ssl_context = ssl_context
        self.cookies = dict(cookies or {})
        self.set_cookies: dict[str, str] = {}
        self.timeout = timeout
        self.ws = None
        self.query_string = ""  # what the app last put in the URL; the browser sends it back
        self.page_script_hash = ""  # the page shown; "" asks for the default page
        self.page_name = ""  # the page's address as the browser's URL has it ("guide" for /guide)
        self.last: Run | None = None

    async def open(self) -> None:
        # a browser sends no pings and no Origin to check; no HTTP proxy from the environment
        extra = {"ssl": self.ssl_context} if self.url.startswith("wss:") else {}
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self.ws = await connect(
            self.url,
            subprotocols=["streamlit"],
            max_size=None,
            proxy=None,
            ping_interval=None,
            open_timeout=self.timeout,
            additional_headers={"Cookie": cookie} if cookie else None,
            **extra,
        )
        for header in self.ws.response.headers.get_all("Set-Cookie"):
            name, _, rest = header.partition("=")
            self.set_cookies[name.strip()] = rest.split(";", 1)[0].strip()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def rerun(self, widgets: list[WidgetState] | None = None) -> Run:
        """Ask for a run with these widget values (the server keeps the others' values) and
        read until it has finished. Raises StreamError if it does not finish successfully."""
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query_string
        state.page_script_hash = self.page_script_hash
        state.page_name = self.page_name
        state.widget_states.widgets.extend(widgets or [])
        # no cached_message_hashes: the server then sends every element in full
        info = state.context_info
        info.timezone, info.timezone_offset, info.locale = "Asia/Tokyo", -540, "ja-JP"
        info.url, info.is_embedded, info.color_scheme = self.page_url + self.page_name, False, "light"
        t = time.perf_counter()
        try:
            await self.ws.send(msg.SerializeToString())
            run = await asyncio.wait_for(self._read_run(t), self.timeout)
        except TimeoutError as e:
            raise StreamError(f"no script_finished within {self.timeout:.0f} s") from e
        except ConnectionClosed as e:
            raise StreamError(f"disconnected: {e}") from e
        self.last = run
        return run

    async def _read_run(self, t: float) -> Run:
        run = Run(0.0)
        while True:
            fwd = ForwardMsg()
            fwd.ParseFromString(await self.ws.recv())
            kind = fwd.WhichOneof("type")
            if kind == "new_session":  # a run starts: what was drawn before is replaced
                run.elements.clear()
                self.page_script_hash = fwd.new_session.page_script_hash or self.page_script_hash
            elif kind == "navigation":  # st.navigation says which page this run shows
                self.page_script_hash = fwd.navigation.page_script_hash or self.page_script_hash
            elif kind == "page_info_changed":
                self.query_string = fwd.page_info_changed.query_string
            elif kind == "ref_hash":  # only sent for hashes a client says it has cached
                raise StreamError("the server referred to a cached message")
            elif kind == "delta":
                self._apply(run, fwd)
            elif (
                kind == "session_event"
                and fwd.session_event.WhichOneof("type") == "script_compilation_exception"
            ):
                run.exceptions.append(fwd.session_event.script_compilation_exception.message)
            elif kind == "script_finished":
                status = fwd.script_finished
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # the app reran itself (st.rerun): the chain goes on
                run.seconds = time.perf_counter() - t
                if status != ForwardMsg.FINISHED_SUCCESSFULLY:
                    raise StreamError(f"script_finished {FINISHED.get(status, status)}")
                return run

    @staticmethod
    def _apply(run: Run, fwd: ForwardMsg) -> None:
        path = tuple(fwd.metadata.delta_path)
        delta = fwd.delta
        # an element or block put at a path replaces whatever was inside it (st.empty)
        for p in [p for p in run.elements if p[: len(path)] == path]:
            del run.elements[p]
        if delta.WhichOneof("type") == "new_element":
            el = delta.new_element
            run.elements[path] = el
            if el.WhichOneof("type") == "exception":
                run.exceptions.append(f"{el.exception.type}: {el.exception.message}")

    # ------------------------------------------------------------ as a person uses tsunagu

    async def sign_in(self, user: str, password: str) -> Run:
        """Open the app, fill in the sign-in form and submit it (the form's values travel
        with its submit button's trigger, as the browser sends them)."""
        first = await self.rerun()
        ids = {k: first.widget(k) for k in ("sign_in_user", "sign_in_password", "sign_in_submit")}
        missing = [k for k, w in ids.items() if w is None]
        if missing:
            raise StreamError(f"no sign-in form (missing {missing})")
        run = await self.rerun(
            [
                WidgetState(id=ids["sign_in_user"].id, string_value=user),
                WidgetState(id=ids["sign_in_password"].id, string_value=password),
                WidgetState(id=ids["sign_in_submit"].id, trigger_value=True),
            ]
        )
        if run.widget("sign_in_user") is not None:
            raise StreamError("still on the sign-in form: " + " / ".join(run.texts())[:200])
        return run

    async def open_page(self, url_path: str) -> Run:
        """Open a page by its address, as a browser given a link to it (`guide` for /guide):
        nothing signed in, the page Streamlit's navigation finds for that path."""
        self.page_script_hash, self.page_name = "", url_path
        return await self.rerun()

    async def choose(self, key: str, value: str | list[str]) -> Run:
        """Set a selectbox (`value`, the option as shown) or pills / a multiselect (a list of
        the options as shown) with this user key, as a tap on the phone does."""
        widget = self.last.widget(key) if self.last else None
        if widget is None:
            raise StreamError(f"no widget {key} on the page")
        state = WidgetState(id=widget.id)
        if isinstance(value, list):
            state.string_array_value.data.extend(value)
        else:
            state.string_value = value
        return await self.rerun([state])

    async def pick_districts(self, districts: list[str]) -> Run:
        """Choose these districts in the sidebar's district box (keyed f_dists)."""
        box = self.last.widget("f_dists") if self.last else None
        if box is None:
            raise StreamError("no district box (f_dists) on the page")
        unknown = [d for d in districts if d not in box.options]
        if unknown:
            raise StreamError(f"not among the district box's options: {unknown}")
        state = WidgetState(id=box.id)
        state.string_array_value.data.extend(districts)
        return await self.rerun([state])
