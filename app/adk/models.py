"""ADK's session events and request bodies, validated and rendered as google-adk 2.13 does.

Written from ADK's observed behaviour; the service does not import ADK, google-genai or pydantic.

* ``parse_event`` validates one request event as ADK's API does (its pydantic ``Event`` in lax
  mode, inside FastAPI) and returns it as ADK stores it in ``events.event_data``
  (``Event.model_dump(exclude_none=True, mode="json")``: field names, None left out, defaults in).
* ``event_json`` renders a stored ``event_data`` as ADK's API returns it (field aliases, defaults,
  ADK-internal ``custom_metadata`` keys removed, credential secrets redacted).
* ``initialization_error`` and ``mark_restored`` are the two steps ADK's create route applies to
  the events of ``POST /apps/{app}/users/{user}/sessions``.
* ``parse_create_request``, ``parse_update_request`` and ``parse_state_body`` validate the bodies
  of the create, the PATCH and the deprecated ``POST .../sessions/{id}`` routes.

Error items are FastAPI's (``type``, ``loc``, ``msg``, ``input``, ``ctx``). FastAPI validates with
``from_attributes=True``, so a model given something other than an object is always
``model_attributes_type``, never pydantic's ``model_type``. Exact for: missing fields,
``extra_forbidden``, wrong types of str/int/float/bool/bytes/dict/list/set fields, lax
conversions between them, base64 bytes, literals, the ``route`` union, ``greater_than_equal``,
the value errors of ``CacheMetadata`` and of the ``message`` shortcut, and item order.

Approximated on purpose, where ADK itself misbehaves or the case is rare:

* A genai enum given a non-string: ADK crashes (500, ``AttributeError`` in the enum's
  ``_missing_``); we answer 422 ``enum``. An unknown string is kept, as ADK keeps it (it only
  warns); a known value in another case is upper-cased, as ADK does.
* A non-finite float (``"inf"``, ``"nan"``, ``"1e400"`` in a string): ADK stores ``Infinity``,
  which PostgreSQL's jsonb refuses (500); we answer 422 ``finite_number``.
* ``actions.requested_auth_configs``: ADK turns each object value into its ``AuthConfig`` model
  (a union of FastAPI's OpenAPI security schemes, and a generated ``credential_key``). Request
  events keep the values as given: any non-empty value makes the event non-default, which the
  create route refuses with 400 anyway (ADK answers 422 first if the AuthConfig is invalid).
  ``event_json`` renders stored auth configs (as ADK writes them) by renaming the known fields to
  their aliases and choosing the security scheme as pydantic's smart union does, by the most
  fields set; it does not compute a missing ``credential_key``.
* ``event_json`` is forgiving where ADK is not: a stored value of the wrong type is returned as
  stored and an unknown nested key is dropped (ADK's GET fails with 500 on both).
"""

from __future__ import annotations

import base64
import math
import re
import time
import uuid

from marshmallow import ValidationError as FieldError

from ..errors import RequestValidationError
from ..validation import MISSING_BODY, LaxBoolean, LaxInteger, item

# ---------------------------------------------------------------------------------------------
# The data, as ADK 2.13 / google-genai 2.34 define it.
#
# One entry per model: (unknown keys: "forbid" | "ignore" | "allow", fields). A field is
# `name:type` then `?` (optional, None by default), `!` (required), `=''`, `=False`, `=new` (an
# empty dict or the model's defaults) or `=now` (time.time()). Types: str int float bool bytes
# any, `int+` (at least 0), `dict` (str -> any), `dict[T]`, `[T]` (list), `{str}` (a set, listed sorted),
# `'X'` (a literal), `route` (ADK's bool|int|str|list union), an enum or a model name.
# `name/alias` gives an alias by hand; otherwise the alias is the camelCase name.

_EVENT_MODELS = {
    "Event": ("ignore", """
        model_version:str? content:Content? grounding_metadata:GroundingMetadata? partial:bool?
        turn_complete:bool? turn_complete_reason:TurnCompleteReason? interaction_status:InteractionStatus?
        finish_reason:FinishReason? error_code:str? error_message:str? interrupted:bool? custom_metadata:dict?
        usage_metadata:GenerateContentResponseUsageMetadata?
        live_session_resumption_update:LiveServerSessionResumptionUpdate? live_session_id:str?
        go_away:LiveServerGoAway? voice_activity:VoiceActivity? input_transcription:Transcription?
        output_transcription:Transcription? avg_logprobs:float? logprobs_result:LogprobsResult?
        cache_metadata:CacheMetadata? citation_metadata:CitationMetadata? interaction_id:str?
        environment_id:str? invocation_id:str='' author:str='' actions:EventActions=new output:any?
        node_info:NodeInfo=new long_running_tool_ids:{str}? branch:str? isolation_scope:str? id:str=''
        timestamp:float=now"""),
    "EventActions": ("forbid", """
        skip_summarization:bool? state_delta:dict=new artifact_delta:dict[int]=new transfer_to_agent:str?
        transfer_reason:str? escalate:bool? requested_auth_configs:dict=new
        requested_tool_confirmations:dict[ToolConfirmation]=new compaction:EventCompaction? end_of_agent:bool?
        agent_state:dict? rewind_before_invocation_id:str? route:route? render_ui_widgets:[UiWidget]?
        set_model_response:any?"""),
    "ToolConfirmation": ("forbid", "hint:str='' confirmed:bool=False payload:any?"),
    "EventCompaction": ("forbid", "start_timestamp:float! end_timestamp:float! compacted_content:Content!"),
    "UiWidget": ("forbid", "id:str! provider:str! payload:dict=new"),
    "NodeInfo": ("ignore", "path:str='' output_for:[str]? message_as_output:bool?"),
    # The one model without camelCase aliases (see _NO_ALIASES).
    "CacheMetadata": ("forbid", """
        cache_name:str? expire_time:float? fingerprint:str! invocations_used:int+? contents_count:int+!
        created_at:float?"""),
    # google.genai.types
    "Content": ("forbid", "parts:[Part]? role:str?"),
    "Part": ("forbid", """
        media_resolution:PartMediaResolution? code_execution_result:CodeExecutionResult?
        executable_code:ExecutableCode? file_data:FileData? function_call:FunctionCall?
        function_response:FunctionResponse? inline_data:Blob? text:str? thought:bool? thought_signature:bytes?
        video_metadata:VideoMetadata? tool_call:ToolCall? tool_response:ToolResponse? part_metadata:dict?
        audio_transcription:Transcription? media_processing:MediaProcessing? speech_metadata:SpeechMetadata?"""),
    "PartMediaResolution": ("forbid", "level:PartMediaResolutionLevel? num_tokens:int?"),
    "CodeExecutionResult": ("forbid", "outcome:Outcome? output:str? id:str?"),
    "ExecutableCode": ("forbid", "code:str? language:Language? id:str?"),
    "FileData": ("forbid", "display_name:str? file_uri:str? mime_type:str?"),
    "FunctionCall": ("forbid", "id:str? args:dict? name:str? partial_args:[PartialArg]? will_continue:bool?"),
    "PartialArg": ("forbid", """
        bool_value:bool? json_path:str? null_value:'NULL_VALUE'? number_value:float? string_value:str?
        will_continue:bool?"""),
    "FunctionResponse": ("forbid", """
        will_continue:bool? scheduling:FunctionResponseScheduling? parts:[FunctionResponsePart]? id:str?
        name:str? response:dict?"""),
    "FunctionResponsePart": ("forbid", """
        inline_data:FunctionResponseBlob? file_data:FunctionResponseFileData? media_processing:MediaProcessing?"""),
    "FunctionResponseBlob": ("forbid", "mime_type:str? data:bytes? display_name:str?"),
    "FunctionResponseFileData": ("forbid", "file_uri:str? mime_type:str? display_name:str?"),
    "Blob": ("forbid", "data:bytes? display_name:str? mime_type:str?"),
    "VideoMetadata": ("forbid", "end_offset:str? fps:float? start_offset:str?"),
    "ToolCall": ("forbid", "id:str? tool_type:ToolType? args:dict?"),
    "ToolResponse": ("forbid", "id:str? tool_type:ToolType? response:dict?"),
    "Transcription": ("forbid", """
        text:str? finished:bool? language_code:str? speaker_label:str? words:[WordInfo]? start_offset:str?
        end_offset:str?"""),
    "WordInfo": ("forbid", "word:str? start_offset:str? end_offset:str?"),
    "SpeechMetadata": ("forbid", "speaker:str? style:str?"),
    "GroundingMetadata": ("forbid", """
        image_search_queries:[str]? grounding_chunks:[GroundingChunk]? grounding_supports:[GroundingSupport]?
        retrieval_metadata:RetrievalMetadata? search_entry_point:SearchEntryPoint? web_search_queries:[str]?
        google_maps_widget_context_token:str? retrieval_queries:[str]?
        source_flagging_uris:[GroundingMetadataSourceFlaggingUri]?"""),
    "GroundingChunk": ("forbid", """
        image:GroundingChunkImage? maps:GroundingChunkMaps? retrieved_context:GroundingChunkRetrievedContext?
        web:GroundingChunkWeb?"""),
    "GroundingChunkImage": ("forbid", "source_uri:str? image_uri:str? title:str? domain:str?"),
    "GroundingChunkMaps": ("forbid", """
        place_answer_sources:GroundingChunkMapsPlaceAnswerSources? place_id:str? text:str? title:str? uri:str?
        route:GroundingChunkMapsRoute?"""),
    "GroundingChunkMapsPlaceAnswerSources": ("forbid", """
        review_snippet:[GroundingChunkMapsPlaceAnswerSourcesReviewSnippet]? flag_content_uri:str?
        review_snippets:[GroundingChunkMapsPlaceAnswerSourcesReviewSnippet]?"""),
    "GroundingChunkMapsPlaceAnswerSourcesReviewSnippet": ("forbid", """
        author_attribution:GroundingChunkMapsPlaceAnswerSourcesAuthorAttribution? flag_content_uri:str?
        google_maps_uri:str? relative_publish_time_description:str? review:str? review_id:str? title:str?"""),
    "GroundingChunkMapsPlaceAnswerSourcesAuthorAttribution": ("forbid", "display_name:str? photo_uri:str? uri:str?"),
    "GroundingChunkMapsRoute": ("forbid", "distance_meters:int? duration:str? encoded_polyline:str?"),
    "GroundingChunkRetrievedContext": ("forbid", """
        document_name:str? rag_chunk:RagChunk? text:str? title:str? uri:str?
        custom_metadata:[GroundingChunkCustomMetadata]? file_search_store:str? page_number:int? media_id:str?"""),
    "RagChunk": ("forbid", "page_span:RagChunkPageSpan? text:str? chunk_id:str? file_id:str?"),
    "RagChunkPageSpan": ("forbid", "first_page:int? last_page:int?"),
    "GroundingChunkCustomMetadata": ("forbid", """
        key:str? numeric_value:float? string_list_value:GroundingChunkStringList? string_value:str?"""),
    "GroundingChunkStringList": ("forbid", "values:[str]?"),
    "GroundingChunkWeb": ("forbid", "domain:str? title:str? uri:str?"),
    "GroundingSupport": ("forbid", """
        confidence_scores:[float]? grounding_chunk_indices:[int]? segment:Segment? rendered_parts:[int]?"""),
    "Segment": ("forbid", "start_index:int? end_index:int? part_index:int? text:str?"),
    "RetrievalMetadata": ("forbid", "google_search_dynamic_retrieval_score:float?"),
    "SearchEntryPoint": ("forbid", "rendered_content:str? sdk_blob:bytes?"),
    "GroundingMetadataSourceFlaggingUri": ("forbid", "flag_content_uri:str? source_id:str?"),
    "GenerateContentResponseUsageMetadata": ("forbid", """
        cache_tokens_details:[ModalityTokenCount]? cached_content_token_count:int? candidates_token_count:int?
        candidates_tokens_details:[ModalityTokenCount]? prompt_token_count:int?
        prompt_tokens_details:[ModalityTokenCount]? thoughts_token_count:int? tool_use_prompt_token_count:int?
        tool_use_prompt_tokens_details:[ModalityTokenCount]? total_token_count:int? traffic_type:TrafficType?"""),
    "ModalityTokenCount": ("forbid", "modality:MediaModality? token_count:int?"),
    "LiveServerSessionResumptionUpdate": ("forbid", "new_handle:str? resumable:bool? last_consumed_client_message_index:int?"),
    "LiveServerGoAway": ("forbid", "time_left:str?"),
    "VoiceActivity": ("forbid", "voice_activity_type:VoiceActivityType? audio_offset:str?"),
    "LogprobsResult": ("forbid", """
        chosen_candidates:[LogprobsResultCandidate]? top_candidates:[LogprobsResultTopCandidates]?
        log_probability_sum:float?"""),
    "LogprobsResultCandidate": ("forbid", "log_probability:float? token:str? token_id:int?"),
    "LogprobsResultTopCandidates": ("forbid", "candidates:[LogprobsResultCandidate]?"),
    "CitationMetadata": ("forbid", "citations:[Citation]?"),
    "Citation": ("forbid", "end_index:int? license:str? publication_date:GoogleTypeDate? start_index:int? title:str? uri:str?"),
    "GoogleTypeDate": ("forbid", "day:int? month:int? year:int?"),
}
_NO_ALIASES = {"CacheMetadata"}

# genai's enums: every member's name is its value. Any other string is kept as given.
_ENUMS = {
    "TurnCompleteReason": """TURN_COMPLETE_REASON_UNSPECIFIED MALFORMED_FUNCTION_CALL RESPONSE_REJECTED
        NEED_MORE_INPUT PROHIBITED_INPUT_CONTENT IMAGE_PROHIBITED_INPUT_CONTENT
        INPUT_TEXT_CONTAIN_PROMINENT_PERSON_PROHIBITED INPUT_IMAGE_CELEBRITY INPUT_IMAGE_PHOTO_REALISTIC_CHILD_PROHIBITED
        INPUT_TEXT_NCII_PROHIBITED INPUT_OTHER INPUT_IP_PROHIBITED BLOCKLIST UNSAFE_PROMPT_FOR_IMAGE_GENERATION
        GENERATED_IMAGE_SAFETY GENERATED_CONTENT_SAFETY GENERATED_AUDIO_SAFETY GENERATED_VIDEO_SAFETY
        GENERATED_CONTENT_PROHIBITED GENERATED_CONTENT_BLOCKLIST GENERATED_IMAGE_PROHIBITED GENERATED_IMAGE_CELEBRITY
        GENERATED_IMAGE_PROMINENT_PEOPLE_DETECTED_BY_REWRITER GENERATED_IMAGE_IDENTIFIABLE_PEOPLE GENERATED_IMAGE_MINORS
        OUTPUT_IMAGE_IP_PROHIBITED GENERATED_OTHER MAX_REGENERATION_REACHED""",
    "InteractionStatus": "INTERACTION_STATUS_UNSPECIFIED IN_PROGRESS REQUIRES_ACTION IDLE",
    "FinishReason": """FINISH_REASON_UNSPECIFIED STOP MAX_TOKENS SAFETY RECITATION LANGUAGE OTHER BLOCKLIST
        PROHIBITED_CONTENT SPII MALFORMED_FUNCTION_CALL IMAGE_SAFETY UNEXPECTED_TOOL_CALL TOO_MANY_TOOL_CALLS
        IMAGE_PROHIBITED_CONTENT NO_IMAGE IMAGE_RECITATION IMAGE_OTHER CONTINUATION""",
    "MediaProcessing": "MEDIA_PROCESSING_UNSPECIFIED STATIC AGENTIC",
    "PartMediaResolutionLevel": """MEDIA_RESOLUTION_UNSPECIFIED MEDIA_RESOLUTION_LOW MEDIA_RESOLUTION_MEDIUM
        MEDIA_RESOLUTION_HIGH MEDIA_RESOLUTION_ULTRA_HIGH""",
    "Outcome": "OUTCOME_UNSPECIFIED OUTCOME_OK OUTCOME_FAILED OUTCOME_DEADLINE_EXCEEDED",
    "Language": "LANGUAGE_UNSPECIFIED PYTHON",
    "FunctionResponseScheduling": "SCHEDULING_UNSPECIFIED SILENT WHEN_IDLE INTERRUPT",
    "ToolType": """TOOL_TYPE_UNSPECIFIED GOOGLE_SEARCH_WEB GOOGLE_SEARCH_IMAGE URL_CONTEXT GOOGLE_MAPS FILE_SEARCH
        MEDIA_PROCESSING""",
    "TrafficType": """TRAFFIC_TYPE_UNSPECIFIED ON_DEMAND ON_DEMAND_PRIORITY ON_DEMAND_FLEX ON_DEMAND_OFFPEAK
        PROVISIONED_THROUGHPUT""",
    "MediaModality": "MODALITY_UNSPECIFIED TEXT IMAGE VIDEO AUDIO DOCUMENT",
    "VoiceActivityType": "TYPE_UNSPECIFIED ACTIVITY_START ACTIVITY_END",
}

# The values of `actions.requested_auth_configs`, as rendered by event_json only. These models
# keep unknown keys. ADK's own match a key by alias or name; FastAPI's OpenAPI models (_ALIAS_ONLY)
# have no generated aliases and match by alias only, so the `type_` ADK stores for a security
# scheme stays an unknown key beside `type`. `?=` marks a field that may be null but is not by
# default.
_SCHEME_TYPE = "'apiKey'|'http'|'oauth2'|'openIdConnect'"
_AUTH_MODELS = {
    "AuthConfig": ("allow", """
        auth_scheme:AuthScheme! raw_auth_credential:AuthCredential? exchanged_auth_credential:AuthCredential?
        credential_key:str?"""),
    "AuthCredential": ("allow", """
        auth_type:str! resource_ref:str? api_key:str? http:HttpAuth? service_account:ServiceAccount?
        oauth2:OAuth2Auth?"""),
    "HttpAuth": ("allow", "scheme:str! credentials:HttpCredentials! additional_headers:dict?"),
    "HttpCredentials": ("allow", "username:str? password:str? token:str?"),
    "OAuth2Auth": ("allow", """
        client_id:str? client_secret:str? auth_uri:str? nonce:str? state:str? redirect_uri:str?
        auth_response_uri:str? auth_code:str? access_token:str? refresh_token:str? id_token:str? expires_at:int?
        expires_in:int? audience:str? prompt:str? code_verifier:str? code_challenge_method:str?
        token_endpoint_auth_method:str?='client_secret_basic'"""),
    "ServiceAccount": ("allow", """
        service_account_credential:ServiceAccountCredential? scopes:[str]? use_default_credential:bool?=False
        use_id_token:bool?=False audience:str?"""),
    "ServiceAccountCredential": ("allow", """
        type_/type:str='' project_id:str! private_key_id:str! private_key:str! client_email:str! client_id:str!
        auth_uri:str! token_uri:str! auth_provider_x509_cert_url:str! client_x509_cert_url:str! universe_domain:str!"""),
    # The members of ADK's AuthScheme union, in its order, then what they hold.
    "APIKey": ("allow", f"type_/type:{_SCHEME_TYPE}='apiKey' description:str? in_/in:'query'|'header'|'cookie'! name:str!"),
    "HTTPBase": ("allow", f"type_/type:{_SCHEME_TYPE}='http' description:str? scheme:str!"),
    "OAuth2": ("allow", f"type_/type:{_SCHEME_TYPE}='oauth2' description:str? flows:OAuthFlows!"),
    "OpenIdConnect": ("allow", f"type_/type:{_SCHEME_TYPE}='openIdConnect' description:str? openIdConnectUrl:str!"),
    "HTTPBearer": ("allow", f"type_/type:{_SCHEME_TYPE}='http' description:str? scheme:'bearer'='bearer' bearerFormat:str?"),
    "OpenIdConnectWithConfig": ("allow", f"""
        type_/type:{_SCHEME_TYPE}='openIdConnect' description:str? authorization_endpoint:str! token_endpoint:str!
        userinfo_endpoint:str? revocation_endpoint:str? token_endpoint_auth_methods_supported:[str]?
        grant_types_supported:[str]? scopes:[str]?"""),
    "CustomAuthScheme": ("allow", "type_/type:str!"),
    "OAuthFlows": ("allow", """
        implicit:OAuthFlowImplicit? password:OAuthFlowPassword? clientCredentials:OAuthFlowClientCredentials?
        authorizationCode:OAuthFlowAuthorizationCode?"""),
    "OAuthFlowImplicit": ("allow", "refreshUrl:str? scopes:dict[str]=new authorizationUrl:str!"),
    "OAuthFlowPassword": ("allow", "refreshUrl:str? scopes:dict[str]=new tokenUrl:str!"),
    "OAuthFlowClientCredentials": ("allow", "refreshUrl:str? scopes:dict[str]=new tokenUrl:str!"),
    "OAuthFlowAuthorizationCode": ("allow", "refreshUrl:str? scopes:dict[str]=new authorizationUrl:str! tokenUrl:str!"),
}
_ALIAS_ONLY = {"APIKey", "HTTPBase", "OAuth2", "OpenIdConnect", "HTTPBearer", "OpenIdConnectWithConfig", "OAuthFlows",
               "OAuthFlowImplicit", "OAuthFlowPassword", "OAuthFlowClientCredentials", "OAuthFlowAuthorizationCode"}
_AUTH_SCHEMES = ("APIKey", "HTTPBase", "OAuth2", "OpenIdConnect", "HTTPBearer", "OpenIdConnectWithConfig",
                 "CustomAuthScheme")

INTERNAL_METADATA_PREFIX = "__adk_internal_"
RESTORED_EVENT_KEY = INTERNAL_METADATA_PREFIX + "restored_event"
# Function calls ADK itself makes to drive human-in-the-loop flows.
ADK_RESERVED_FUNCTION_NAMES = frozenset({"adk_request_credential", "adk_request_confirmation", "adk_request_input"})

# What ADK's API strips from every session it returns (state included) before sending it.
_SECRET_KEYS = frozenset("""password token additionalHeaders additional_headers clientSecret client_secret
    authResponseUri auth_response_uri authCode auth_code accessToken access_token refreshToken refresh_token
    idToken id_token codeVerifier code_verifier privateKeyId private_key_id privateKey private_key apiKey
    api_key""".split())
_AUTH_TYPES = frozenset("""apiKey http oauth2 openIdConnect serviceAccount API_KEY HTTP OAUTH2 OPEN_ID_CONNECT
    SERVICE_ACCOUNT api_key open_id_connect service_account""".split())
_CREDENTIAL_CARRIERS = ("rawAuthCredential", "raw_auth_credential", "exchangedAuthCredential",
                        "exchanged_auth_credential")

# ---------------------------------------------------------------------------------------------
# Validation machinery.

_BAD = object()  # returned by a check that recorded an error
_I64 = 2 ** 63


def _error(errs, loc, value, type_, msg, ctx=None):
    """Record one FastAPI item; return _BAD. `errs` None: a forgiving pass, nothing recorded."""
    if errs is not None:
        base = item(type_, msg, ctx)
        entry = {"type": base["type"], "loc": list(loc), "msg": base["msg"], "input": value}
        if "ctx" in base:
            entry["ctx"] = base["ctx"]
        errs.append(entry)
    return _BAD


def _value_error(errs, loc, value, text):
    # FastAPI renders the exception kept in ctx as an empty object.
    return _error(errs, loc, value, "value_error", "Value error, " + text, {"error": {}})


def _from_field(field, errs, loc, value):
    """Run one of app.validation's lax string parsers, turning its error into an item."""
    try:
        return field._deserialize(value, None, None)
    except FieldError as exc:
        err = exc.messages[0]
        return _error(errs, loc, value, err["type"], err["msg"], err.get("ctx"))


class _Str:
    def check(self, v, loc, errs):
        return v if type(v) is str else _error(errs, loc, v, "string_type", "Input should be a valid string")

    def api(self, v):
        return v


class _Int:
    _lax = LaxInteger()

    def __init__(self, ge=None):
        self.ge = ge

    def check(self, v, loc, errs):
        t = type(v)
        if t is int:
            r = v
        elif t is bool:
            r = int(v)
        elif t is float:
            if not v.is_integer():
                return _error(errs, loc, v, "int_from_float",
                              "Input should be a valid integer, got a number with a fractional part")
            if abs(v) >= _I64:
                return _error(errs, loc, v, "int_parsing_size",
                              "Unable to parse input string as an integer, exceeded maximum size")
            r = int(v)
        elif t is str:
            r = _from_field(self._lax, errs, loc, v)
            if r is _BAD:
                return r
        else:
            return _error(errs, loc, v, "int_type", "Input should be a valid integer")
        if self.ge is not None and r < self.ge:
            return _error(errs, loc, v, "greater_than_equal", f"Input should be greater than or equal to {self.ge}",
                          {"ge": self.ge})
        return r

    def api(self, v):
        return v if type(v) is int else _forgive(self, v)


# pydantic's float syntax (Rust's): decimal or inf/infinity/nan in any case, around the
# whitespace it strips (as for integers, Unicode White_Space without U+001C..U+001F). Failing
# that, the text without its underscores, unless one leads, trails or doubles (no strip then).
_FLOAT_TEXT = r"[+-]?(?:inf|infinity|nan|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
_FLOAT_RE = re.compile(rf"[^\S\x1c-\x1f]*({_FLOAT_TEXT})[^\S\x1c-\x1f]*", re.I)
_FLOAT_BARE_RE = re.compile(_FLOAT_TEXT, re.I)


def _float_text(v: str) -> float | None:
    match = _FLOAT_RE.fullmatch(v)
    if match:
        return float(match.group(1))
    if "_" in v and v[0] != "_" and v[-1] != "_" and "__" not in v:
        bare = v.replace("_", "")
        if _FLOAT_BARE_RE.fullmatch(bare):
            return float(bare)
    return None


class _Float:
    def check(self, v, loc, errs):
        t = type(v)
        if t is float:
            r = v
        elif t is int or t is bool:
            try:
                r = float(v)
            except OverflowError:
                return _error(errs, loc, v, "float_type", "Input should be a valid number")
        elif t is str:
            r = _float_text(v)
            if r is None:
                return _error(errs, loc, v, "float_parsing",
                              "Input should be a valid number, unable to parse string as a number")
        else:
            return _error(errs, loc, v, "float_type", "Input should be a valid number")
        if not math.isfinite(r):
            # ADK would store Infinity or NaN, which jsonb cannot hold (see the module docstring).
            return _error(errs, loc, v, "finite_number", "Input should be a finite number")
        return r

    def api(self, v):
        return v if type(v) is float else _forgive(self, v)


class _Bool:
    _lax = LaxBoolean()

    def check(self, v, loc, errs):
        t = type(v)
        if t is bool:
            return v
        if t is int or (t is float and v.is_integer()):
            if v == 0 or v == 1:
                return v == 1
            if -_I64 <= v < _I64:
                return _error(errs, loc, v, "bool_parsing", "Input should be a valid boolean, unable to interpret input")
        elif t is str:
            return _from_field(self._lax, errs, loc, v)
        return _error(errs, loc, v, "bool_type", "Input should be a valid boolean")

    def api(self, v):
        return v if type(v) is bool else _forgive(self, v)


class _Any:
    def check(self, v, loc, errs):
        return v

    def api(self, v):
        return v


_B64_STD = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_B64_URL = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_B64_VALUE = {c: i for i, c in enumerate(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")}
_B64_VALUE.update({ord("+"): 62, ord("/"): 63, ord("-"): 62, ord("_"): 63})


def _b64_problem(raw: bytes, alphabet) -> tuple[str | None, int, int | None]:
    """One decoding attempt as pydantic's base64 engine makes it (padding optional but, when
    present, exact; no stray bits in the last symbol): (error text or None, length of the data
    before padding, the invalid byte when that was the error)."""
    size = len(raw)
    if size % 4 == 1 and raw[-1] != 61 and raw[-1] not in alphabet:
        # A stray last byte (a newline, say) is reported before anything else.
        return f"Invalid symbol {raw[-1]}, offset {size - 1}.", size, raw[-1]
    for i, c in enumerate(raw):
        if c in alphabet:
            continue
        if c == 61:  # '='
            pad = size - i
            if raw.count(61, i) == pad and ((i % 4 == 2 and pad <= 2) or (i % 4 == 3 and pad == 1)):
                size = i
                break
        return f"Invalid symbol {c}, offset {i}.", size, c
    if size % 4 == 1:
        return f"Invalid input length: {size}", size, None
    if size % 4:
        last = raw[size - 1]
        bits = _B64_VALUE[last]
        if bits & (0x0F if size % 4 == 2 else 0x03):
            return (f"Invalid last symbol {last:#x} ('{chr(last)}') at offset {size - 1}, "
                    f"decoded as {bits:#010b}."), size, None
    return None, size, None


class _Bytes:
    """bytes as base64 text; stored and rendered URL-safe, padded (pydantic's ser_json_bytes)."""

    def check(self, v, loc, errs):
        if type(v) is not str:
            return _error(errs, loc, v, "bytes_type", "Input should be a valid bytes")
        raw = v.encode()
        # The URL-safe alphabet, and the standard one when that fails on a `+` or `/`.
        problem, size, bad = _b64_problem(raw, _B64_URL)
        if bad in (43, 47):
            problem, size, bad = _b64_problem(raw, _B64_STD)
        if problem:
            return _error(errs, loc, v, "bytes_invalid_encoding", f"Data should be valid base64: {problem}",
                          {"encoding": "base64", "encoding_error": problem})
        data = raw[:size].replace(b"+", b"-").replace(b"/", b"_")
        return base64.urlsafe_b64encode(base64.urlsafe_b64decode(data + b"=" * (-size % 4))).decode()

    def api(self, v):
        return _forgive(self, v)


class _Enum:
    def __init__(self, values: str):
        self.values = frozenset(values.split())
        self.expected = ", ".join(f"'{x}'" for x in values.split()[:-1]) + f" or '{values.split()[-1]}'"

    def check(self, v, loc, errs):
        if type(v) is str:
            if v in self.values:
                return v
            upper = v.upper()
            return upper if upper in self.values else v
        return _error(errs, loc, v, "enum", f"Input should be {self.expected}", {"expected": self.expected})

    def api(self, v):
        return _forgive(self, v)


class _Literal:
    def __init__(self, values: str):
        self.values = tuple(x[1:-1] for x in values.split("|"))
        quoted = [f"'{x}'" for x in self.values]
        self.expected = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]

    def check(self, v, loc, errs):
        if type(v) is str and v in self.values:
            return v
        return _error(errs, loc, v, "literal_error", f"Input should be {self.expected}", {"expected": self.expected})

    def api(self, v):
        return v


class _Dict:
    def __init__(self, inner=None):
        self.inner = inner

    def check(self, v, loc, errs):
        if type(v) is not dict:
            return _error(errs, loc, v, "dict_type", "Input should be a valid dictionary")
        if self.inner is None:
            return v
        out, bad = {}, False
        for key, x in v.items():
            r = self.inner.check(x, (*loc, key), errs)
            bad = bad or r is _BAD
            out[key] = r
        return _BAD if bad else out

    def api(self, v):
        if self.inner is None or type(v) is not dict:
            return v
        inner = self.inner
        return {key: inner.api(x) for key, x in v.items()}


class _List:
    def __init__(self, inner):
        self.inner = inner

    def check(self, v, loc, errs):
        if type(v) is not list:
            return _error(errs, loc, v, "list_type", "Input should be a valid list")
        out, bad = [], False
        for i, x in enumerate(v):
            r = self.inner.check(x, (*loc, i), errs)
            bad = bad or r is _BAD
            out.append(r)
        return _BAD if bad else out

    def api(self, v):
        if type(v) is not list:
            return v
        inner = self.inner
        return [inner.api(x) for x in v]


class _StrSet:
    """set[str], which ADK serialises as a sorted list."""

    def check(self, v, loc, errs):
        if type(v) is not list:
            return _error(errs, loc, v, "set_type", "Input should be a valid set")
        bad = False
        for i, x in enumerate(v):
            if type(x) is not str:
                bad = _error(errs, (*loc, i), x, "string_type", "Input should be a valid string")
        return _BAD if bad else sorted(set(v))

    def api(self, v):
        return _forgive(self, v)


class _Route:
    """`bool | int | str | list[bool | int | str]`, chosen as pydantic's smart union does."""

    LIST = "list[union[bool,int,str]]"
    _members = (("bool", _Bool()), ("int", _Int()), ("str", _Str()))

    def _scalar(self, v, loc, errs):
        if type(v) in (bool, int, str):
            return v
        tried = []
        for name, member in self._members:
            r = member.check(v, (*loc, name), tried)
            if r is not _BAD:
                return r
        if errs is not None:
            errs.extend(tried)
        return _BAD

    def check(self, v, loc, errs):
        if type(v) in (bool, int, str):
            return v
        tried = []
        if type(v) is not list:
            r = self._scalar(v, loc, tried)
            if r is not _BAD:
                return r
            _error(tried, (*loc, self.LIST), v, "list_type", "Input should be a valid list")
        else:
            for name, member in self._members:
                member.check(v, (*loc, name), tried)
            out = [self._scalar(x, (*loc, self.LIST, i), tried) for i, x in enumerate(v)]
            if _BAD not in out:
                return out
        if errs is not None:
            errs.extend(tried)
        return _BAD

    def api(self, v):
        return _forgive(self, v)


def _forgive(kind, v):
    r = kind.check(v, (), None)
    return v if r is _BAD else r


class _Ready:
    """A value already validated (the `message` shortcut's content)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class _ModelRef:
    def __init__(self, name):
        self.name = name
        self.model = None  # resolved once every model is built

    def check(self, v, loc, errs):
        if type(v) is dict:
            return self.model.check(v, loc, errs)
        if type(v) is _Ready:
            return v.value
        return _error(errs, loc, v, "model_attributes_type",
                      "Input should be a valid dictionary or object to extract fields from")

    def api(self, v):
        return self.model.api(v) if type(v) is dict else v


class _Field:
    __slots__ = ("name", "alias", "kind", "optional", "required", "default", "index", "fast")

    def __init__(self, name, alias, kind, flag, index):
        self.name, self.alias, self.kind, self.index = name, alias, kind, index
        self.optional = flag[0] == "?"  # null allowed (and left out)
        self.required = flag == "!"
        # "=''", "=False", "=new", "=now", "='text'", or None (no default but None, or required)
        self.default = flag[1:] if flag.startswith("?=") else None if flag in ("?", "!") else flag
        # For event_json: values rendered as stored (True), or when of this exact type.
        self.fast = _fast(kind)

    def make_default(self, api: bool):
        d = self.default
        if d == "=new":
            if isinstance(self.kind, _ModelRef):
                return self.kind.model.api({}) if api else self.kind.model.check({}, (), [])
            return {}
        if d == "=now":
            return time.time()
        if d == "=False":
            return False
        return d[2:-1]  # a quoted string


_FAST = {_Str: True, _Any: True, _Literal: True, _Int: int, _Float: float, _Bool: bool}


def _fast(kind):
    if type(kind) is _Dict and kind.inner is None:
        return True
    return _FAST.get(type(kind))


_SIMPLE = {"str": _Str(), "int": _Int(), "int+": _Int(ge=0), "float": _Float(), "bool": _Bool(),
           "bytes": _Bytes(), "any": _Any(), "dict": _Dict(), "{str}": _StrSet(), "route": _Route()}
_ENUM_KINDS = {name: _Enum(values) for name, values in _ENUMS.items()}
_FIELD_RE = re.compile(r"^(\w+)(?:/(\w+))?:(.+?)(\?|!|\??=.*)$")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class _Model:
    def __init__(self, name, extra, spec, *, aliases=True, by_name=True):
        self.name, self.extra, self.by_name = name, extra, by_name
        self.refs: list[_ModelRef] = []
        self.fields = []
        for index, token in enumerate(spec.split()):
            fname, alias, type_text, flag = _FIELD_RE.match(token).groups()
            alias = alias or (_camel(fname) if aliases else fname)
            self.fields.append(_Field(fname, alias, self._kind(type_text), flag, index))
        # Key → field, the alias first: given both, pydantic takes the alias.
        self.by_key = {}
        for f in self.fields:
            if by_name:
                self.by_key[f.name] = f
        for f in self.fields:
            self.by_key[f.alias] = f
        self.with_default = [f for f in self.fields if f.default is not None]
        self.alias_index = {f.alias: f.index for f in self.fields}

    def _kind(self, text):
        if text in _SIMPLE:
            return _SIMPLE[text]
        if text in _ENUM_KINDS:
            return _ENUM_KINDS[text]
        if text.startswith("["):
            return _List(self._kind(text[1:-1]))
        if text.startswith("dict["):
            return _Dict(self._kind(text[5:-1]))
        if text.startswith("'"):
            return _Literal(text)
        ref = _ModelRef(text)
        self.refs.append(ref)
        return ref

    def check(self, data, loc, errs):
        """Validate `data` (a dict) into its stored form; errors go to `errs`."""
        before = len(errs)
        out = {}
        used = set() if self.extra == "forbid" else None
        for f in self.fields:
            key = f.alias if f.alias in data else f.name if (self.by_name and f.name in data) else None
            if key is None:
                if f.required:
                    _error(errs, (*loc, f.alias), data, "missing", "Field required")
                elif f.default is not None:
                    out[f.name] = f.make_default(False)
                continue
            if used is not None:
                used.add(key)
            v = data[key]
            if v is None and f.optional:
                continue
            r = f.kind.check(v, (*loc, key), errs)
            if r is not _BAD:
                out[f.name] = r
        if used is not None and len(used) < len(data):
            for key, v in data.items():
                if key not in used:
                    _error(errs, (*loc, key), v, "extra_forbidden", "Extra inputs are not permitted")
        if len(errs) > before:
            return _BAD
        return out

    def api(self, data):
        """Render stored `data` as ADK's API does: aliases, defaults, field order, None left out."""
        by_key = self.by_key
        out = {}
        extras = nulls = None
        last, ordered = -1, True
        for key, v in data.items():
            f = by_key.get(key)
            if f is None:
                if self.extra == "allow" and v is not None:
                    if extras is None:
                        extras = []
                    extras.append((key, v))
                continue
            alias = f.alias
            if v is None:
                if f.default is not None and f.optional:  # set to null: no default
                    nulls = (nulls or set()) | {alias}
                continue
            if key != alias and alias in out:
                continue
            fast = f.fast
            out[alias] = v if fast is True or type(v) is fast else f.kind.api(v)
            if f.index < last:
                ordered = False
            last = f.index
        for f in self.with_default:
            if f.alias not in out and not (nulls and f.alias in nulls):
                out[f.alias] = f.make_default(True)
                ordered = False
        if not ordered:
            index = self.alias_index
            out = dict(sorted(out.items(), key=lambda kv: index[kv[0]]))
        if extras:
            out.update(extras)
        return out


class _EventModel(_Model):
    def check(self, data, loc, errs):
        data = _event_shortcuts(data, loc, errs)
        if data is _BAD:
            return _BAD
        out = super().check(data, loc, errs)
        if out is not _BAD and not out["id"]:
            out["id"] = str(uuid.uuid4())
        return out

    def api(self, data):
        out = super().api(data)
        if not out["id"]:
            out["id"] = str(uuid.uuid4())
        return out


class _CacheMetadataModel(_Model):
    def check(self, data, loc, errs):
        out = super().check(data, loc, errs)
        if out is _BAD:
            return out
        if len({key in out for key in ("cache_name", "expire_time", "invocations_used")}) > 1:
            return _value_error(errs, loc, data, "cache_name, expire_time, and invocations_used must all be set "
                                "(active cache) or all be None (fingerprint-only state)")
        return out


class _CitationMetadataModel(_Model):
    def check(self, data, loc, errs):
        if "citationSources" in data:
            data = dict(data)
            data["citations"] = data.pop("citationSources")
        return super().check(data, loc, errs)


class _AuthConfigs:
    """`requested_auth_configs`: free-form in requests (see the module docstring)."""

    def check(self, v, loc, errs):
        return _SIMPLE["dict"].check(v, loc, errs)

    def api(self, v):
        if type(v) is not dict:
            return v
        auth_config = _MODELS["AuthConfig"]
        return {key: auth_config.api(x) if type(x) is dict else x for key, x in v.items()}


class _AuthScheme:
    """ADK's AuthScheme union: of the members that validate, the one with the most fields set,
    the first on a tie (pydantic's smart union)."""

    def api(self, v):
        if type(v) is not dict:
            return v
        best, best_count = None, -1
        for name in _AUTH_SCHEMES:
            model = _MODELS[name]
            errs: list = []
            model.check(v, (), errs)
            if errs:
                continue
            count = sum(1 for f in model.fields if f.alias in v or (model.by_name and f.name in v))
            if count > best_count:
                best, best_count = model, count
        return best.api(v) if best is not None else v


def _build() -> dict[str, _Model]:
    special = {"Event": _EventModel, "CacheMetadata": _CacheMetadataModel, "CitationMetadata": _CitationMetadataModel}
    models: dict[str, _Model] = {}
    for name, (extra, spec) in _EVENT_MODELS.items():
        models[name] = special.get(name, _Model)(name, extra, spec, aliases=name not in _NO_ALIASES)
    for name, (extra, spec) in _AUTH_MODELS.items():
        fastapi = name in _ALIAS_ONLY  # FastAPI's models: no alias generator, no population by name
        models[name] = _Model(name, extra, spec, aliases=not fastapi, by_name=not fastapi)
    models["AuthScheme"] = _AuthScheme()
    for model in models.values():
        for ref in getattr(model, "refs", ()):
            ref.model = models[ref.name]
    actions = models["EventActions"]
    for f in actions.fields:
        if f.name == "requested_auth_configs":
            f.kind = _AuthConfigs()
            f.fast = None
    return models


_MODELS = _build()
_EVENT = _MODELS["Event"]
_CONTENT = _MODELS["Content"]
_PART = _MODELS["Part"]
_FILE_DATA = _MODELS["FileData"]
_EVENT_FIELD_ORDER = {f.name: f.index for f in _EVENT.fields}


def _event_shortcuts(data, loc, errs):
    """ADK's Event accepts `message`, `state`, `route` and `node_path` and moves them into place."""
    if not any(key in data for key in ("message", "state", "route", "node_path")):
        return data
    given = data
    data = dict(data)
    message = data.pop("message", None)
    state = data.pop("state", None)
    route = data.pop("route", None)
    node_path = data.pop("node_path", None)
    if message is not None:
        if data.get("content") is not None:
            return _value_error(errs, loc, given, "'message' and 'content' are mutually exclusive. Use one or the other.")
        content = _message_content(message, given, loc, errs)
        if content is _BAD:
            return _BAD
        data["content"] = _Ready(content)
    if state is not None or route is not None:
        actions = data.get("actions")
        if actions is None or type(actions) is dict:
            actions = dict(actions or {})
            if state is not None:
                actions["state_delta"] = state
            if route is not None:
                actions["route"] = route
            data["actions"] = actions
    if node_path is not None:
        node_info = data.get("node_info")
        if node_info is None or type(node_info) is dict:
            data["node_info"] = {**(node_info or {}), "path": node_path}
    return data


def _message_content(message, given, loc, errs):
    """genai's t_content on a JSON value: a Content, a Part, a text, or a list of parts."""
    if type(message) is dict:
        content = _CONTENT.check(message, loc, [])
        if content is not _BAD:
            return content
        part = _message_part(message, given, loc, errs)
        if part is _BAD:
            return part
        return {"parts": [part], "role": "model" if "function_call" in part else "user"}
    if type(message) is list:
        if not message:
            return _value_error(errs, loc, given, "content parts are required.")
        parts = []
        for x in message:
            part = _message_part(x, given, loc, errs)
            if part is _BAD:
                return part
            parts.append(part)
        return {"parts": parts, "role": "user"}
    part = _message_part(message, given, loc, errs)
    return part if part is _BAD else {"parts": [part], "role": "user"}


def _message_part(value, given, loc, errs):
    if value is None:
        return _value_error(errs, loc, given, "content part is required.")
    if type(value) is str:
        return {"text": value}
    if type(value) is dict:
        part = _PART.check(value, loc, [])
        if part is not _BAD:
            return part
        file_data = _FILE_DATA.check(value, loc, errs)
        return file_data if file_data is _BAD else {"file_data": file_data}
    return _value_error(errs, loc, given, f"Unsupported content part type: <class '{type(value).__name__}'>")


# ---------------------------------------------------------------------------------------------
# The API.


def _validate_event(value, loc, errs):
    if type(value) is not dict:
        return _error(errs, loc, value, "model_attributes_type",
                      "Input should be a valid dictionary or object to extract fields from")
    return _EVENT.check(value, loc, errs)


def parse_event(value, loc=()) -> dict:
    """One request event, validated as ADK's API does, in the form ADK stores (`event_data`).

    A missing `id` (or "") becomes a new uuid4 string and a missing `timestamp` the current
    time.time(), as in ADK. Raises RequestValidationError with FastAPI's items, `loc` prefixed.
    """
    errs: list[dict] = []
    out = _validate_event(value, tuple(loc), errs)
    if errs:
        raise RequestValidationError(errs)
    return out


def event_json(stored: dict) -> dict:
    """A stored `event_data` as ADK's API returns it (see the module docstring).

    The result may share free-form values (state, function arguments) with `stored`.
    """
    out = redact_secrets(_EVENT.api(stored))
    metadata = out.get("customMetadata")
    if type(metadata) is dict and any(type(k) is str and k.startswith(INTERNAL_METADATA_PREFIX) for k in metadata):
        kept = {k: v for k, v in metadata.items() if not k.startswith(INTERNAL_METADATA_PREFIX)}
        if kept:
            out["customMetadata"] = kept
        else:
            del out["customMetadata"]
    return out


def redact_secrets(value):
    """ADK's API answer without credential secrets; ADK applies it to the whole session (state too).

    Returns `value` itself where nothing changes, and copies only what does.
    """
    if type(value) is dict:
        if not _REDACTION_TRIGGERS.isdisjoint(value):
            special = _redact_special(value)
            if special is not None:
                return special
        return _rebuilt(value, redact_secrets)
    if type(value) is list:
        return _rebuilt(value, redact_secrets)
    return value


def _redact_special(value: dict):
    """ADK's rules for the dicts that carry credentials, in its order; None if none applies."""
    for key in ("authType", "auth_type"):
        auth_type = value.get(key)
        if type(auth_type) is str and auth_type in _AUTH_TYPES:
            return _strip_secrets(value)
    if value.get("name") == "adk_request_credential":
        out = {}
        for key, x in value.items():
            if key == "args" and type(x) is dict:
                x = dict(x)
                for name in ("authConfig", "auth_config"):
                    if name in x:
                        x[name] = _strip_secrets(x[name])
                out[key] = x
            elif key == "response":
                out[key] = _strip_secrets(x)
            else:
                out[key] = redact_secrets(x)
        return out
    for carriers in (("requestedAuthConfigs", "requested_auth_configs"), _CREDENTIAL_CARRIERS):
        if not value.keys().isdisjoint(carriers):
            return _rebuilt(value, redact_secrets, lambda key, carriers=carriers: _strip_secrets if key in carriers else None)
    return None


def _strip_secrets(value):
    """Every secret key removed, at any depth (ADK's rule inside auth configs)."""
    if type(value) is dict:
        if _SECRET_KEYS.isdisjoint(value):
            return _rebuilt(value, _strip_secrets)
        return {k: _strip_secrets(v) for k, v in value.items() if k not in _SECRET_KEYS}
    if type(value) is list:
        return _rebuilt(value, _strip_secrets)
    return value


def _rebuilt(value, fn, by_key=None):
    """`value` (a dict or list) with `fn` applied to its containers; itself if nothing changed."""
    changed = None
    items = value.items() if type(value) is dict else enumerate(value)
    for key, x in items:
        if type(x) is not dict and type(x) is not list:
            continue
        y = (by_key(key) or fn)(x) if by_key is not None else fn(x)
        if y is not x:
            if changed is None:
                changed = value.copy()
            changed[key] = y
    return value if changed is None else changed


_REDACTION_TRIGGERS = frozenset({"authType", "auth_type", "name", "requestedAuthConfigs", "requested_auth_configs",
                                 *_CREDENTIAL_CARRIERS})


def initialization_error(stored_event: dict) -> str | None:
    """Why ADK's create route refuses this (parsed) event, as the `{disallowed}` of its 400
    "Session initialization event {i} cannot include {disallowed}.", or None."""
    if stored_event.get("long_running_tool_ids"):
        return "long-running tool IDs"
    actions = stored_event.get("actions") or {}
    if any(v is not None and (k not in _DEFAULT_ACTIONS or v != {}) for k, v in actions.items()):
        return "event actions"
    for part in (stored_event.get("content") or {}).get("parts") or ():
        for key in ("function_call", "function_response"):
            call = part.get(key)
            if call is not None and call.get("name") in ADK_RESERVED_FUNCTION_NAMES:
                return "ADK protocol function calls"
    return None


_DEFAULT_ACTIONS = frozenset({"state_delta", "artifact_delta", "requested_auth_configs", "requested_tool_confirmations"})


def mark_restored(stored_event: dict) -> dict:
    """The event as ADK's create route appends it: marked restored, caller's internal keys dropped."""
    metadata = stored_event.get("custom_metadata") or {}
    metadata = {k: v for k, v in metadata.items() if not (type(k) is str and k.startswith(INTERNAL_METADATA_PREFIX))}
    metadata[RESTORED_EVENT_KEY] = True
    out = {**stored_event, "custom_metadata": metadata}
    order = _EVENT_FIELD_ORDER
    return dict(sorted(out.items(), key=lambda kv: order.get(kv[0], len(order))))


def _absent(body) -> bool:
    return body is MISSING_BODY


def _attributes_error(errs, body):
    return _error(errs, ("body",), body, "model_attributes_type",
                  "Input should be a valid dictionary or object to extract fields from")


def _lookup(body: dict, name: str):
    """The key pydantic reads for a field of ADK's request models (camelCase alias first)."""
    alias = _camel(name)
    if alias in body:
        return alias
    return name if name in body else None


def parse_create_request(body) -> dict:
    """CreateSessionRequest: `{"session_id", "state", "events", "options"}`, each None if absent.

    `body` is the decoded JSON or app.validation.MISSING_BODY; no body and JSON null both mean
    "no request" to ADK (all None). Events come back parsed (parse_event's form).
    """
    out = {"session_id": None, "state": None, "events": None, "options": None}
    if _absent(body) or body is None:
        return out
    errs: list[dict] = []
    if type(body) is not dict:
        _attributes_error(errs, body)
        raise RequestValidationError(errs)
    for name, kind in (("session_id", _SIMPLE["str"]), ("state", _SIMPLE["dict"]), ("events", None),
                       ("options", _SIMPLE["dict"])):
        key = _lookup(body, name)
        if key is None or body[key] is None:
            continue
        value = body[key]
        if kind is not None:
            r = kind.check(value, ("body", key), errs)
        elif type(value) is not list:
            r = _error(errs, ("body", key), value, "list_type", "Input should be a valid list")
        else:
            r = [_validate_event(event, ("body", key, i), errs) for i, event in enumerate(value)]
        out[name] = r
    if errs:
        raise RequestValidationError(errs)
    return out


def parse_update_request(body) -> dict:
    """UpdateSessionRequest (PATCH): `{"state_delta": dict}`. The body is required; JSON null is
    not an object (ADK's answer differs for the two)."""
    errs: list[dict] = []
    if _absent(body):
        errs.append({"type": "missing", "loc": ["body"], "msg": "Field required", "input": None})
    elif type(body) is not dict:
        _attributes_error(errs, body)
    else:
        key = _lookup(body, "state_delta")
        if key is None:
            _error(errs, ("body", "stateDelta"), body, "missing", "Field required")
        else:
            state_delta = _SIMPLE["dict"].check(body[key], ("body", key), errs)
    if errs:
        raise RequestValidationError(errs)
    return {"state_delta": state_delta}


def parse_state_body(body) -> dict | None:
    """The deprecated `POST .../sessions/{session_id}`, whose whole body is the optional state."""
    if _absent(body) or body is None:
        return None
    errs: list[dict] = []
    state = _SIMPLE["dict"].check(body, ("body",), errs)
    if errs:
        raise RequestValidationError(errs)
    return state
