"""Spider arguments (``-a NAME=VALUE``), declared once and validated when a spider starts.

A bad argument stops the crawl before any request with a message naming the argument.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from newscrawl.sites import site_root

Source = Literal["feeds", "sitemaps", "sections", "links"]
ALL_SOURCES: tuple[Source, ...] = ("feeds", "sitemaps", "sections", "links")
# Arguments that schedulers add on their own (scrapyd passes the job id as ``_job``).
SCHEDULER_ARGUMENTS = frozenset({"_job"})


Arguments = TypeVar("Arguments", bound="NewsSpiderArguments")


class SpiderArgumentError(ValueError):
    """A ``-a`` spider argument is unknown or has a bad value."""


class NewsSpiderArguments(BaseModel):
    """The arguments every news spider takes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Where to crawl: the live site by default; a mirror of it (``http://127.0.0.1:PORT``).
    base_url: str | None = None
    # How to discover articles: any of feeds, sitemaps, sections, links (comma-separated).
    sources: tuple[Source, ...] = ALL_SOURCES

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        return None if value is None else site_root(value, "http://127.0.0.1:8080")

    @field_validator("sources", mode="before")
    @classmethod
    def _split_sources(cls, value: Any) -> Any:
        if isinstance(value, str):
            names = tuple(s.strip() for s in value.split(",") if s.strip())
            if not names:
                raise ValueError(f"name at least one of {', '.join(ALL_SOURCES)}")
            return names
        return value

    @classmethod
    def from_spider_kwargs(cls: type[Arguments], kwargs: dict[str, Any]) -> Arguments:
        """Validate ``-a`` arguments; raise SpiderArgumentError with a readable message."""
        given = {k: v for k, v in kwargs.items() if k not in SCHEDULER_ARGUMENTS}
        try:
            return cls.model_validate(given)
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                name = ".".join(str(p) for p in error["loc"][:1]) or "argument"
                if error["type"] == "extra_forbidden":
                    problems.append(f"unknown argument -a {name}")
                elif error["type"] == "missing":
                    problems.append(f"-a {name} is required")
                else:
                    message = str(error["msg"]).removeprefix("Value error, ")
                    problems.append(f"-a {name}={given.get(name)!r}: {message}")
            known = ", ".join(cls.model_fields)
            raise SpiderArgumentError(
                "bad spider argument: " + "; ".join(problems) + f" (known arguments: {known})"
            ) from None
