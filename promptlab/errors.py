"""Every error promptlab raises, rooted at :class:`PromptlabError`.

The tree::

    PromptlabError
    ├── ConfigurationError          a setting or an argument is wrong
    │   ├── ParameterError          a generation parameter is out of range
    │   ├── UnsupportedParameterError   the provider cannot honour a parameter
    │   ├── MissingDependencyError  an optional extra is not installed
    │   └── MissingCredentialsError a cloud dataset URL has no credentials to open it
    ├── TemplateError               a Jinja template cannot be found, parsed or rendered
    │   ├── TemplateNotFoundError
    │   ├── MissingVariableError    a variable the template needs was not given
    │   └── TemplateSecurityError   the sandbox refused an unsafe operation
    ├── ProviderError(provider, status, retry_after)   a backend call failed
    │   ├── AuthenticationError     bad or missing API key (not retried)
    │   │   └── MissingAPIKeyError  no key given or in its environment variable (also a
    │   │                           ConfigurationError; raised when the provider is built)
    │   ├── BadRequestError         the backend refused the request (not retried)
    │   │   └── ContextWindowExceededError
    │   ├── ModelNotFoundError      (not retried)
    │   ├── RateLimitError          429 (retried, honouring retry_after)
    │   ├── ServerError             5xx (retried)
    │   ├── ProviderTimeoutError    (retried)
    │   ├── ProviderConnectionError (retried)
    │   ├── ResponseFormatError     the backend answered with something unreadable
    │   └── BatchRequestError       a request of a provider batch errored, expired, was
    │                               canceled, or its whole batch was rejected
    ├── DataError                   a task file or data set is malformed (file, line, field)
    │   ├── CorpusNotFoundError     a retrieval corpus file or folder does not exist (also a
    │   │                           FileNotFoundError)
    │   └── EmptyCorpusError        a retrieval corpus holds no text to index
    ├── RetrievalError              a retriever cannot answer a query
    │   ├── EmptyQueryError         the query is empty or only whitespace (also a ValueError)
    │   ├── MissingQueryFieldError  a RAG query template names a field the task does not have
    │   └── EmbeddingDimensionError an embedding backend returned vectors of the wrong size,
    │                               or of different sizes
    └── RunLockedError              another run is writing to the same run directory

Provider modules translate their SDK's exceptions into the most specific class above,
chained with ``raise ... from exc``.
"""

from __future__ import annotations


class PromptlabError(Exception):
    """Root of every error promptlab raises."""


class ConfigurationError(PromptlabError):
    """A setting or an argument is wrong; the message says which and how to fix it."""


class ParameterError(ConfigurationError, ValueError):
    """A generation parameter is outside its allowed range."""


class UnsupportedParameterError(ConfigurationError):
    """A request uses a parameter that the provider cannot honour.

    Args:
        fix: What to do about it; by default, remove the parameter or drop it with
            ``on_unsupported='drop'``.

    Attributes:
        provider: The provider's name.
        parameter: The parameter's name.
    """

    def __init__(
        self, provider: str, parameter: str, detail: str = "", *, fix: str | None = None
    ) -> None:
        self.provider = provider
        self.parameter = parameter
        fix = fix or (
            "Remove it from the request, or build the provider with on_unsupported='drop' "
            "to drop it with a warning."
        )
        message = (
            f"Provider {provider!r} does not support the parameter {parameter!r}"
            f"{': ' + detail if detail else ''}. {fix}"
        )
        super().__init__(message)


class MissingDependencyError(ConfigurationError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"{purpose} needs the package {package!r}, which is not installed. "
            f'Install it with: pip install "promptlab[{extra}]"'
        )


class MissingCredentialsError(ConfigurationError):
    """A cloud URL (``s3://``, ``gcs://``, ``azure://``, ``al://``) was given without
    credentials, as an argument or in the environment; the message names what to set.

    Raised before any network call, so a missing key fails at once rather than after the
    storage client's retries. The credentials themselves never appear in the message.

    Attributes:
        url: The URL, without any user name, password or secret query value.
    """

    def __init__(self, message: str, *, url: str) -> None:
        self.url = url
        super().__init__(f"{url}: {message}")


class TemplateError(PromptlabError):
    """A template cannot be found, parsed or rendered."""


class TemplateNotFoundError(TemplateError):
    """No template with that name exists in any template folder."""


class MissingVariableError(TemplateError):
    """A template needs variables that were not given.

    Attributes:
        template: The template's name.
        variables: The missing variable names, sorted.
    """

    def __init__(self, template: str, variables: list[str], given: list[str]) -> None:
        self.template = template
        self.variables = variables
        names = ", ".join(repr(v) for v in variables)
        given_text = ", ".join(repr(g) for g in given) or "none"
        super().__init__(
            f"Template {template!r} needs the variable(s) {names}, which were not given "
            f"(given: {given_text}). Pass them in the inputs, e.g. "
            f"strategy.run({{{variables[0]!r}: ...}}, provider)."
        )


class TemplateSecurityError(TemplateError):
    """The sandbox refused an unsafe operation in a template."""


class ProviderError(PromptlabError):
    """A backend call failed.

    Attributes:
        provider: The provider's name.
        status: The HTTP status code, when there was one.
        retry_after: Seconds the backend asked us to wait, when it said so.
    """

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.provider = provider
        self.status = status
        self.retry_after = retry_after
        status_text = f" (HTTP {status})" if status is not None else ""
        super().__init__(f"{provider}{status_text}: {message}")

    def __reduce__(self):  # keep pickling (used by multiprocessing) working with kwargs
        return (
            _rebuild_provider_error,
            (type(self), self.args[0], self.provider, self.status, self.retry_after),
        )


def _rebuild_provider_error(cls, full_message, provider, status, retry_after):  # type: ignore[no-untyped-def]
    error = cls.__new__(cls)
    Exception.__init__(error, full_message)
    error.provider, error.status, error.retry_after = provider, status, retry_after
    return error


class AuthenticationError(ProviderError):
    """The API key is missing, wrong or lacks permission. Not retried."""


class MissingAPIKeyError(AuthenticationError, ConfigurationError):
    """No API key was given and its environment variable is not set. Raised at construction."""


class BadRequestError(ProviderError):
    """The backend refused the request as malformed. Not retried."""


class ContextWindowExceededError(BadRequestError):
    """The prompt plus max_tokens does not fit the model's context window. Not retried."""


class ModelNotFoundError(ProviderError):
    """The model name is unknown to the backend. Not retried."""


class RateLimitError(ProviderError):
    """The backend asked us to slow down (HTTP 429). Retried after ``retry_after``."""

    retryable = True


class ServerError(ProviderError):
    """The backend failed (HTTP 5xx). Retried."""

    retryable = True


class ProviderTimeoutError(ProviderError):
    """The backend did not answer in time. Retried."""

    retryable = True


class ProviderConnectionError(ProviderError):
    """The connection failed or was dropped. Retried."""

    retryable = True


class ResponseFormatError(ProviderError):
    """The backend's answer could not be read (e.g. malformed JSON). Retried."""

    retryable = True


class BatchRequestError(ProviderError):
    """A request sent through a vendor's batch API did not succeed.

    Attributes:
        kind: ``"errored"`` (the vendor's error for this request), ``"expired"`` (not run
            within the batch's window), ``"canceled"``, ``"rejected"`` (the whole batch
            failed validation) or ``"missing"`` (no result line came back).
        retryable: Whether another batch may succeed: expired and missing requests, and
            server-side errors (5xx, rate limits, overload), are retried under the
            provider's retry policy; the rest fail at once.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        kind: str,
        retryable: bool,
        status: int | None = None,
    ) -> None:
        super().__init__(message, provider=provider, status=status)
        self.kind = kind
        self.retryable = retryable


class DataError(PromptlabError):
    """A task file or data set is malformed.

    Attributes:
        source: The file (or a description of the data).
        line: The 1-based line or row number, when known.
        field: The offending field, when known.
    """

    def __init__(
        self, message: str, *, source: str, line: int | None = None, field: str | None = None
    ) -> None:
        self.source = source
        self.line = line
        self.field = field
        where = source
        if line is not None:
            where += f", line {line}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {message}")


class CorpusNotFoundError(DataError, FileNotFoundError):
    """A retrieval corpus file or folder does not exist; ``source`` is the path given."""


class EmptyCorpusError(DataError):
    """A retrieval corpus holds no document with text, so there is nothing to index."""


class RetrievalError(PromptlabError):
    """A retriever cannot answer a query."""


class EmptyQueryError(RetrievalError, ValueError):
    """A retrieval query is empty or only whitespace."""


class MissingQueryFieldError(RetrievalError):
    """A retrieval query template uses a field that the task does not have.

    Attributes:
        query: The query template, e.g. ``"{{ question }}"``.
        field: The missing field.
        given: The task's fields, sorted.
    """

    def __init__(self, query: str, field: str, given: list[str]) -> None:
        self.query = query
        self.field = field
        self.given = given
        super().__init__(
            f"The retrieval query {query!r} uses the task field {field!r}, which this task "
            f"does not have (its fields: {', '.join(map(repr, given)) or 'none'}). Add the "
            "field to every task, or set the query (RAG(query=...), or query: in YAML) to a "
            "template over fields the tasks have."
        )


class EmbeddingDimensionError(RetrievalError):
    """An embedding backend returned vectors of the wrong size, or of different sizes.

    Attributes:
        embedder: A description of the embedding backend.
        expected: The vector size that was expected.
        got: The vector size that came back.
    """

    def __init__(self, message: str, *, embedder: str, expected: int, got: int) -> None:
        self.embedder = embedder
        self.expected = expected
        self.got = got
        super().__init__(f"{embedder}: {message}")


class RunLockedError(PromptlabError):
    """Another run holds the run directory's lock; one directory has one writer at a time.

    Attributes:
        run_dir: The run directory.
        pid: The process id of the run holding the lock, when known.
    """

    def __init__(self, run_dir: str, pid: int | None) -> None:
        self.run_dir = run_dir
        self.pid = pid
        holder = f"process {pid}" if pid is not None else "another process"
        super().__init__(
            f"{run_dir} is in use: {holder} is running an experiment into it. Wait for it to "
            "finish (or stop it), or use another --out directory."
        )
