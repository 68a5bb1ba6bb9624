"""Online geocoders: the only module that imports geopy.

Each provider is a real geopy geocoder (Nominatim, BaiduV3, and :class:`AMap`, a
small geopy ``Geocoder`` subclass for AMap's geocode API) wrapped in
:class:`OnlineGeocoder`, which

* calls it through geopy's ``RateLimiter`` (a minimum delay between requests, retries
  with a pause for transient failures only, a per-request timeout); the public
  Nominatim server is held to one request per second whatever the config says, as
  its usage policy requires;
* converts the answer to WGS-84 (Baidu answers in BD-09, AMap in GCJ-02) and grades
  it (house number, place, street, district, city) from the provider's own fields;
* translates ``geopy.exc`` into :class:`~optimizer.errors.GeocodingServiceError`
  naming the provider and what to do, ``raise ... from err``. "Not found" is
  ``None``, never an error.

The cache sits outside this wrapper (``cache.CachedGeocoder``), so a cached address
never reaches the rate limiter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlencode

from geopy import exc as geopy_exc
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import BaiduV3, Nominatim
from geopy.geocoders.base import DEFAULT_SENTINEL
from geopy.geocoders.base import Geocoder as GeopyGeocoder
from geopy.location import Location

from optimizer.datums import CoordSystem, to_wgs84
from optimizer.errors import ConfigurationError, GeocodingServiceError
from optimizer.geocoding.base import GeocodeResult, Quality

logger = logging.getLogger(__name__)

PUBLIC_NOMINATIM = "nominatim.openstreetmap.org"
#: The public server's usage policy: "an absolute maximum of 1 request per second".
PUBLIC_NOMINATIM_MIN_DELAY_S = 1.0

# geopy logs every request URL at DEBUG: the address and, for Baidu and AMap, the
# key travel in it. Our logs name visits by id only, so geopy stays at WARNING.
logging.getLogger("geopy").setLevel(logging.WARNING)


# --- AMap ----------------------------------------------------------------------------

_AMAP_AUTH = {
    "10001",
    "10002",
    "10005",
    "10006",
    "10007",
    "10008",
    "10009",
    "10011",
    "10012",
    "10013",
    "10041",
}
_AMAP_QUOTA = {"10003", "10010", "10029", "10044", "10045"}
_AMAP_RATE = {"10004", "10014", "10019", "10020", "10021"}
_AMAP_DOWN = {"10015", "10016", "10017"}


class AMap(GeopyGeocoder):  # type: ignore[misc]
    """Geocoder for AMap's (Gaode) Web Service geocode API, ``/v3/geocode/geo``.

    Answers are GCJ-02 ``"lng,lat"`` strings; this class returns them as they are
    (``Location.point`` in GCJ-02) and :class:`OnlineGeocoder` converts. Errors
    arrive as HTTP 200 with ``status == "0"`` and an ``infocode``, mapped here to
    geopy's exception classes like geopy's own geocoders do.
    """

    api_path = "/v3/geocode/geo"

    def __init__(
        self,
        api_key: str,
        *,
        domain: str = "restapi.amap.com",
        scheme: str | None = None,
        timeout: Any = DEFAULT_SENTINEL,
        proxies: Any = DEFAULT_SENTINEL,
        user_agent: str | None = None,
        ssl_context: Any = DEFAULT_SENTINEL,
        adapter_factory: Any = None,
    ) -> None:
        super().__init__(
            scheme=scheme,
            timeout=timeout,
            proxies=proxies,
            user_agent=user_agent,
            ssl_context=ssl_context,
            adapter_factory=adapter_factory,
        )
        self.api_key = api_key
        self.api = f"{self.scheme}://{domain.strip('/')}{self.api_path}"

    def geocode(
        self,
        query: str,
        *,
        exactly_one: bool = True,
        timeout: Any = DEFAULT_SENTINEL,
        city: str | None = None,
    ) -> Location | list[Location] | None:
        """Locate ``query``; ``city`` (name, citycode or adcode) narrows the search."""
        params = {"key": self.api_key, "address": query, "output": "JSON"}
        if city:
            params["city"] = city
        url = f"{self.api}?{urlencode(params)}"
        callback = partial(self._parse_json, exactly_one=exactly_one)
        return self._call_geocoder(url, callback, timeout=timeout)

    def _parse_json(
        self, page: Mapping[str, Any], exactly_one: bool
    ) -> Location | list[Location] | None:
        if str(page.get("status")) != "1":
            self._raise_for_infocode(str(page.get("infocode", "")), str(page.get("info", "")))
        places = [p for p in page.get("geocodes") or [] if p.get("location")]
        if not places:
            return None
        locations = [self._parse_place(p) for p in places]
        return locations[0] if exactly_one else locations

    @staticmethod
    def _parse_place(place: Mapping[str, Any]) -> Location:
        lon, lat = (float(v) for v in str(place["location"]).split(","))
        return Location(place.get("formatted_address") or "", (lat, lon), dict(place))

    @staticmethod
    def _raise_for_infocode(infocode: str, info: str) -> None:
        text = f"{info} (infocode {infocode})"
        if infocode in _AMAP_AUTH:
            raise geopy_exc.GeocoderAuthenticationFailure(text)
        if infocode in _AMAP_QUOTA:
            raise geopy_exc.GeocoderQuotaExceeded(text)
        if infocode in _AMAP_RATE:
            raise geopy_exc.GeocoderRateLimited(text)
        if infocode in _AMAP_DOWN:
            raise geopy_exc.GeocoderUnavailable(text)
        if infocode.startswith("2"):
            raise geopy_exc.GeocoderQueryError(text)
        raise geopy_exc.GeocoderServiceError(text)


class Baidu(BaiduV3):  # type: ignore[misc]
    """geopy's BaiduV3, except that "no result" is ``None``, not a server error.

    Baidu answers an unknown address with ``status`` 1 and a message
    "...无相关结果" ("no related result"); geopy maps every status 1 to
    ``GeocoderServiceError``, which would turn "not found" into "service down".
    """

    def _parse_json(self, page: Mapping[str, Any], exactly_one: bool = True) -> Any:
        if page.get("status") == 1 and "无相关结果" in str(page.get("msg", "")):
            return None
        return super()._parse_json(page, exactly_one)


# --- grading each provider's answer ----------------------------------------------------

_BAIDU_LEVELS = {
    "门址": Quality.HOUSE_NUMBER,
    "道路": Quality.STREET,
    "道路交叉路口": Quality.STREET,
    "商圈": Quality.DISTRICT,
    "乡镇": Quality.DISTRICT,
    "村庄": Quality.DISTRICT,
    "区县": Quality.DISTRICT,
    "城市": Quality.CITY,
    "省份": Quality.CITY,
    "国家": Quality.CITY,
    "UNKNOWN": Quality.CITY,
}
_AMAP_LEVELS = {
    "门牌号": Quality.HOUSE_NUMBER,
    "单元号": Quality.HOUSE_NUMBER,
    "楼栋": Quality.HOUSE_NUMBER,
    "道路": Quality.STREET,
    "道路交叉路口": Quality.STREET,
    "兴趣点": Quality.PLACE,
    "公交站台、地铁站": Quality.PLACE,
    "公交地铁站点": Quality.PLACE,
    "热点商圈": Quality.DISTRICT,
    "村庄": Quality.DISTRICT,
    "乡镇": Quality.DISTRICT,
    "开发区": Quality.DISTRICT,
    "区县": Quality.DISTRICT,
    "市": Quality.CITY,
    "省": Quality.CITY,
    "国家": Quality.CITY,
    "未知": Quality.CITY,
}


def nominatim_quality(raw: Mapping[str, Any]) -> Quality:
    """Grade a Nominatim answer by its ``place_rank`` (30 = a building or POI)."""
    try:
        rank = int(raw.get("place_rank", 0))
    except (TypeError, ValueError):
        rank = 0
    address = raw.get("address") or {}
    if rank >= 28:
        return Quality.HOUSE_NUMBER if address.get("house_number") else Quality.PLACE
    if rank >= 26:
        return Quality.STREET
    if rank >= 17:
        return Quality.DISTRICT
    return Quality.CITY


def baidu_quality(raw: Mapping[str, Any]) -> Quality:
    """Grade a Baidu answer by ``level``; a named point (兴趣点, 教育, 酒店...) is a place."""
    level = str(raw.get("level", "UNKNOWN"))
    return _BAIDU_LEVELS.get(level, Quality.PLACE)


def amap_quality(raw: Mapping[str, Any]) -> Quality:
    """Grade an AMap answer by ``level``; unknown levels count as city (coarse)."""
    return _AMAP_LEVELS.get(str(raw.get("level", "未知")), Quality.CITY)


# --- the wrapper -------------------------------------------------------------------------


class _Query:
    """An address handed through geopy's RateLimiter.

    The limiter logs its arguments with ``%r`` when it retries; this repr keeps the
    address out of the log.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return "<address withheld>"


class _RateLimiter(RateLimiter):  # type: ignore[misc]
    """geopy's RateLimiter retrying only what a retry can cure.

    geopy retries every ``GeocoderServiceError``; a bad key or a spent daily quota
    fails the same way a few seconds later, so those are raised at once.
    """

    _retry_exceptions = (
        geopy_exc.GeocoderTimedOut,
        geopy_exc.GeocoderUnavailable,
        geopy_exc.GeocoderRateLimited,
    )


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """What differs between providers beyond the geopy class."""

    provider: str  # "nominatim", "baidu", "amap"
    label: str  # for messages: "Nominatim at nominatim.openstreetmap.org"
    coord_system: CoordSystem
    grade: Callable[[Mapping[str, Any]], Quality]
    key_env: str | None = None  # the environment variable holding the key


class OnlineGeocoder:
    """A geopy geocoder behind a rate limiter, answering WGS-84 graded results."""

    online = True

    def __init__(
        self,
        geocoder: Any,
        spec: ProviderSpec,
        *,
        name: str,
        min_delay_s: float,
        max_retries: int,
        error_wait_s: float,
        timeout_s: float,
        geocode_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self._geocoder = geocoder
        self.spec = spec
        self._name = name
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self._kwargs = dict(geocode_kwargs or {})
        #: Requests actually sent, retries included (tests and the run summary read it).
        self.requests = 0
        self.limiter = _RateLimiter(
            self._request,
            min_delay_seconds=min_delay_s,
            max_retries=max_retries,
            error_wait_seconds=max(error_wait_s, min_delay_s),
            swallow_exceptions=False,
        )

    @property
    def name(self) -> str:
        return self._name

    def _request(self, query: _Query) -> Any:
        self.requests += 1
        return self._geocoder.geocode(query.text, timeout=self.timeout_s, **self._kwargs)

    def geocode(self, address: str) -> GeocodeResult | None:
        """Ask the provider; None when it knows no such address.

        Raises
        ------
        GeocodingServiceError
            Timed out, unreachable, rate-limited, quota spent, key refused, or an
            answer that could not be read.
        """
        try:
            location = self.limiter(_Query(address))
        except geopy_exc.GeopyError as err:
            raise GeocodingServiceError(self._explain(err)) from err
        if location is None:
            return None
        raw = location.raw if isinstance(location.raw, Mapping) else {}
        try:
            point = to_wgs84(location.latitude, location.longitude, self.spec.coord_system)
        except ValueError as err:
            msg = f"{self.spec.label} answered coordinates out of range ({err}); this is a provider fault, try again later"
            raise GeocodingServiceError(msg) from err
        return GeocodeResult(point, self.spec.grade(raw), self.spec.provider)

    def _explain(self, err: Exception) -> str:
        who = self.spec.label
        key = f"the key in ${self.spec.key_env}" if self.spec.key_env else "the request"
        cached = "answers received so far are cached, so a re-run resumes where this one stopped"
        tries = f"{self.max_retries + 1} tries"
        if isinstance(err, geopy_exc.GeocoderTimedOut):
            what = f"did not answer within {self.timeout_s:g} s ({tries})"
            todo = f"check the network or the server, raise [geocoder] timeout_s, or run with --offline (cache and gazetteer only); {cached}"
        elif isinstance(err, geopy_exc.GeocoderUnavailable):
            what = f"is unreachable ({tries})"
            todo = f"check the network, the server address ([geocoder] domain/scheme) and any proxy, or run with --offline; {cached}"
        elif isinstance(err, geopy_exc.GeocoderRateLimited):
            what = f"refused: too many requests ({tries})"
            todo = f"wait a few minutes and re-run, or raise [geocoder] min_delay_s; {cached}"
        elif isinstance(err, geopy_exc.GeocoderQuotaExceeded):
            what = "refused: the quota is used up"
            todo = f"wait for the quota to reset or use a key with a larger quota; {cached}"
        elif isinstance(
            err, geopy_exc.GeocoderAuthenticationFailure | geopy_exc.GeocoderInsufficientPrivileges
        ):
            what = f"refused {key}"
            todo = "check the key, that the geocoding service is enabled for it and that this machine's IP is allowed"
            if not self.spec.key_env:
                todo = "check [geocoder] user_agent (a real application name and contact) and the server's access rules"
        elif isinstance(err, geopy_exc.GeocoderQueryError):
            what = "rejected the request as invalid"
            todo = "check [geocoder] settings (domain, scheme, country_codes); if they are right, report this as a bug"
        elif isinstance(err, geopy_exc.GeocoderParseError):
            what = "sent an answer that could not be read"
            todo = "check [geocoder] domain points at a geocoding server, or try again later"
        elif isinstance(err, geopy_exc.ConfigurationError):
            what = "is not configured correctly"
            todo = "fix the [geocoder] section of the config"
        else:
            what = "failed"
            todo = f"try again later or run with --offline; {cached}"
        detail = str(err).strip()
        detail = f" [{type(err).__name__}: {detail}]" if detail else f" [{type(err).__name__}]"
        return f"geocoding service {who} {what}: {todo}.{detail}"


# --- construction ------------------------------------------------------------------------


def provider_name(provider: str, *, domain: str = PUBLIC_NOMINATIM, scheme: str = "https") -> str:
    """The cache's name for a provider: a Nominatim server is part of its identity."""
    if provider == "nominatim":
        return f"nominatim:{scheme}://{domain.strip('/')}"
    return provider


def make_nominatim(
    *,
    user_agent: str,
    domain: str = PUBLIC_NOMINATIM,
    scheme: str = "https",
    country_codes: tuple[str, ...] = (),
    min_delay_s: float = 1.0,
    max_retries: int = 2,
    error_wait_s: float = 5.0,
    timeout_s: float = 10.0,
    adapter_factory: Any = None,
) -> OnlineGeocoder:
    """A Nominatim server. The public one is held to 1 request/s and needs a real user_agent.

    Raises
    ------
    ConfigurationError
        No ``user_agent``, or geopy refused it (its sample values are rejected).
    """
    domain = domain.strip("/")
    if not user_agent.strip():
        msg = "[geocoder] user_agent is required for Nominatim: name your application and a contact, e.g. 'fieldroute-acme (ops@acme.example)'"
        raise ConfigurationError(msg)
    public = domain == PUBLIC_NOMINATIM
    if public and min_delay_s < PUBLIC_NOMINATIM_MIN_DELAY_S:
        logger.warning(
            "public Nominatim allows 1 request per second; using min_delay_s=1 instead of %g",
            min_delay_s,
        )
        min_delay_s = PUBLIC_NOMINATIM_MIN_DELAY_S
    try:
        geocoder = Nominatim(
            domain=domain,
            scheme=scheme,
            user_agent=user_agent,
            timeout=timeout_s,
            adapter_factory=adapter_factory,
        )
    except geopy_exc.ConfigurationError as err:
        msg = f"[geocoder] for Nominatim: {err}"
        raise ConfigurationError(msg) from err
    kwargs: dict[str, Any] = {"addressdetails": True, "exactly_one": True}
    if country_codes:
        kwargs["country_codes"] = list(country_codes)
    spec = ProviderSpec("nominatim", f"Nominatim at {domain}", CoordSystem.WGS84, nominatim_quality)
    return OnlineGeocoder(
        geocoder,
        spec,
        name=provider_name("nominatim", domain=domain, scheme=scheme),
        min_delay_s=min_delay_s,
        max_retries=max_retries,
        error_wait_s=error_wait_s,
        timeout_s=timeout_s,
        geocode_kwargs=kwargs,
    )


def _key_from_env(env: Mapping[str, str], var: str, provider: str) -> str:
    key = env.get(var, "").strip()
    if not key:
        msg = (
            f"{provider} needs an API key in the environment variable ${var} "
            f"(named by [geocoder] api_key_env); set it, e.g. 'export {var}=...', "
            'or use provider = "gazetteer" or --offline'
        )
        raise ConfigurationError(msg)
    return key


def make_baidu(
    *,
    env: Mapping[str, str],
    api_key_env: str = "BAIDU_MAPS_AK",
    security_key_env: str = "",
    min_delay_s: float = 0.05,
    max_retries: int = 2,
    error_wait_s: float = 5.0,
    timeout_s: float = 10.0,
    adapter_factory: Any = None,
) -> OnlineGeocoder:
    """Baidu Maps geocoding v3 (BD-09 answers, converted to WGS-84).

    Raises
    ------
    ConfigurationError
        The key's environment variable is unset or empty.
    """
    key = _key_from_env(env, api_key_env, "Baidu")
    sk = env.get(security_key_env, "").strip() if security_key_env else ""
    geocoder = Baidu(
        api_key=key,
        security_key=sk or None,
        timeout=timeout_s,
        adapter_factory=adapter_factory,
    )
    spec = ProviderSpec("baidu", "Baidu Maps", CoordSystem.BD09, baidu_quality, api_key_env)
    return OnlineGeocoder(
        geocoder,
        spec,
        name=provider_name("baidu"),
        min_delay_s=min_delay_s,
        max_retries=max_retries,
        error_wait_s=error_wait_s,
        timeout_s=timeout_s,
        geocode_kwargs={"exactly_one": True},
    )


def make_amap(
    *,
    env: Mapping[str, str],
    api_key_env: str = "AMAP_KEY",
    city: str = "",
    min_delay_s: float = 0.05,
    max_retries: int = 2,
    error_wait_s: float = 5.0,
    timeout_s: float = 10.0,
    adapter_factory: Any = None,
) -> OnlineGeocoder:
    """AMap (Gaode) geocoding v3 (GCJ-02 answers, converted to WGS-84).

    Raises
    ------
    ConfigurationError
        The key's environment variable is unset or empty.
    """
    key = _key_from_env(env, api_key_env, "AMap")
    geocoder = AMap(api_key=key, timeout=timeout_s, adapter_factory=adapter_factory)
    spec = ProviderSpec("amap", "AMap (Gaode)", CoordSystem.GCJ02, amap_quality, api_key_env)
    kwargs: dict[str, Any] = {"exactly_one": True}
    if city:
        kwargs["city"] = city
    return OnlineGeocoder(
        geocoder,
        spec,
        name=provider_name("amap"),
        min_delay_s=min_delay_s,
        max_retries=max_retries,
        error_wait_s=error_wait_s,
        timeout_s=timeout_s,
        geocode_kwargs=kwargs,
    )
