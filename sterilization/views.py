"""HTTP API of the sterilization domain: thin handlers over the rule modules.

Roles: everyone signed in may read; MAs (and admins) do everything on packs, cycles and
indicator results; sterilizers, cycle types and recall resolutions are admin decisions.
Auditors and purchasing never write here.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import MethodNotAllowedException
from litestar.params import Parameter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kernel.auth.guards import admin_only, any_role, requires_role
from kernel.auth.models import Role
from kernel.auth.service import CurrentUser
from kernel.fields import MAX_ID, FromParam, PathKey, QueryText, RowId
from kernel.pagination import Page, PageParams, paginate, provide_page_params
from kernel.problems import InvalidInput, NotFound
from sterilization import cycles, indicators, packs, recalls, sterilizers, trace
from sterilization.clinic import Clinic
from sterilization.models import BiResult, Cycle, Pack, Recall, Sterilizer
from sterilization.schemas import (
    AmendmentIn,
    AmendmentOut,
    BiOut,
    BiResultIn,
    CycleComplete,
    CycleDetail,
    CyclePackOut,
    CycleParametersOut,
    CycleRow,
    CycleStart,
    CycleStarted,
    CycleTypeCreate,
    CycleTypeOut,
    PackCompromise,
    PackContent,
    PackCreate,
    PackCycleOut,
    PackEventOut,
    PackList,
    PackOut,
    PackUse,
    RecallDetail,
    RecallPackOut,
    RecallResolve,
    RecallRow,
    SterilizerCreate,
    SterilizerOut,
    SterilizerStatusChange,
)

ma_or_admin = requires_role(Role.MA)
PAGE = {"page": Provide(provide_page_params, sync_to_thread=False)}


def clinic_of(state: State) -> Clinic:
    return Clinic.from_settings(state.settings)


def deletion_refused(what: str) -> MethodNotAllowedException:
    return MethodNotAllowedException(
        detail=f"{what} are never deleted: the sterilization record is kept for years. "
        "Correct a cycle with an amendment; take a pack out of use with compromise.",
        headers={"Allow": "GET, POST"},
    )


# Converters --------------------------------------------------------------------------


def sterilizer_out(s: Sterilizer) -> SterilizerOut:
    return SterilizerOut(
        code=s.code,
        name=s.name,
        kind=s.kind,
        status=s.status,
        status_reason=s.status_reason,
        last_bi_at=s.last_bi_at,
        last_bowie_dick_at=s.last_bowie_dick_at,
        last_cycle_number=s.last_cycle_number,
        created_at=s.created_at,
    )


def pack_out(view: packs.PackView) -> PackOut:
    p = view.pack
    cycle = (
        PackCycleOut(
            id=p.cycle_id,
            number=view.cycle_number,
            sterilizer=view.sterilizer_code or "",
            sterilizer_name=view.sterilizer_name or "",
            status=view.cycle_status or "",
        )
        if p.cycle_id is not None and view.cycle_number is not None
        else None
    )
    return PackOut(
        code=p.code,
        description=p.description,
        contents=msgspec.json.decode(p.contents, type=list[PackContent]),
        implant=p.implant,
        status=p.status,
        usable=view.usable,
        reasons=view.reasons,
        cycle=cycle,
        assembled_by=p.assembled_by,
        assembled_at=p.assembled_at,
        sterilized_at=p.sterilized_at,
        expires_on=p.expires_on,
        used_at=p.used_at,
        used_by=p.used_by,
        encounter_ref=p.encounter_ref,
    )


def cycle_type_out(rule: cycles.CycleTypeRule) -> CycleTypeOut:
    return CycleTypeOut(
        code=rule.code,
        name=rule.name,
        purpose=rule.purpose,
        min_temperature_c=rule.min_temperature_c,
        min_exposure_minutes=rule.min_exposure_minutes,
        sterilizer_kinds=list(rule.sterilizer_kinds),
        builtin=rule.builtin,
    )


def amendment_out(a: Any) -> AmendmentOut:
    return AmendmentOut(
        id=a.id,
        field=a.field,
        original=json.loads(a.original) if a.original is not None else None,
        value=json.loads(a.value),
        reason=a.reason,
        actor=a.actor,
        at=a.at,
    )


def cycle_detail(session: Session, cycle_id: int) -> CycleDetail:
    rec = cycles.cycle_record(session, cycle_id)
    c, p = rec.cycle, rec.parameters
    amendments = [amendment_out(a) for a in rec.amendments]
    recall_id = session.scalar(
        select(Recall.id).where(Recall.triggered_by_cycle_id == c.id).order_by(Recall.id)
    )
    return CycleDetail(
        id=c.id,
        sterilizer=rec.sterilizer.code,
        sterilizer_name=rec.sterilizer.name,
        number=c.number,
        cycle_type=c.cycle_type,
        status=c.status,
        operator=c.operator,
        started_at=c.started_at,
        ended_at=c.ended_at,
        completed_by=c.completed_by,
        implants=c.implants,
        bi_lot=c.bi_lot,
        warnings=rec.warnings,
        parameters=CycleParametersOut(
            temperature_c=p.temperature_c,
            pressure_kpa=p.pressure_kpa,
            exposure_minutes=p.exposure_minutes,
            dry_minutes=p.dry_minutes,
            mechanical_ok=p.mechanical_ok,
            chemical_ok=p.chemical_ok,
            notes=p.notes,
            failure_reasons=json.loads(p.failure_reasons),
            recorded_by=p.recorded_by,
            recorded_at=p.recorded_at,
        )
        if p is not None
        else None,
        bi=BiOut(
            result=rec.bi.result,
            control_grew=rec.bi.control_grew,
            lot=rec.bi.lot,
            read_at=rec.bi.read_at,
            recorded_by=rec.bi.recorded_by,
        )
        if rec.bi is not None
        else None,
        amendments=amendments,
        amended_values={a.field: a.value for a in amendments},
        recall_id=recall_id,
        packs=[
            CyclePackOut(code=k.code, description=k.description, implant=k.implant, status=k.status)
            for k in rec.packs
        ],
    )


def recall_row(session: Session, r: Recall, cls: type[RecallRow] = RecallRow, **extra: Any) -> Any:
    sterilizer = session.get(Sterilizer, r.sterilizer_id)
    trigger = session.get(Cycle, r.triggered_by_cycle_id)
    since = session.get(Cycle, r.since_cycle_id) if r.since_cycle_id else None
    return cls(
        id=r.id,
        sterilizer=sterilizer.code if sterilizer else "",
        triggered_by_cycle=r.triggered_by_cycle_id,
        triggered_by_cycle_number=trigger.number if trigger else 0,
        since_cycle_number=since.number if since else None,
        opened_at=r.opened_at,
        opened_by=r.opened_by,
        status=r.status,
        reason=r.reason,
        pack_count=r.pack_count,
        resolved_at=r.resolved_at,
        resolved_by=r.resolved_by,
        resolution_reason=r.resolution_reason,
        **extra,
    )


def recall_detail(session: Session, recall_id: int) -> RecallDetail:
    recall = recalls.get_recall(session, recall_id)
    rows = [
        RecallPackOut(
            code=p.code,
            description=p.description,
            status=p.status,
            previous_status=previous,
            cycle_number=number,
            used_at=p.used_at,
            encounter_ref=p.encounter_ref,
        )
        for p, previous, number in recalls.recall_packs(session, recall.id)
    ]
    return recall_row(session, recall, RecallDetail, packs=rows)


def parse_when(text: str | None, clinic: Clinic, *, name: str, end: bool) -> dt.datetime | None:
    """A date (a whole clinic day; `to` includes it) or an ISO date-time."""
    if text is None or text == "":
        return None
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return clinic.start_of_day(day + dt.timedelta(days=1) if end else day)
        when = dt.datetime.fromisoformat(text)
        when = when if when.tzinfo else when.replace(tzinfo=clinic.tz)
        return when.astimezone(dt.UTC)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(
            f"{name} must be a date (2026-11-28) or a date-time with offset.",
            extra={"errors": [{"field": name, "message": "invalid date", "source": "query"}]},
        ) from exc


# Controllers -------------------------------------------------------------------------


class SterilizerController(Controller):
    path = "/api/v1/sterilizers"
    tags = ["sterilization"]

    @post("/", guards=[admin_only], sync_to_thread=True, summary="Add a sterilizer (admin)")
    def create(self, data: SterilizerCreate, db_session: Session, me: CurrentUser) -> SterilizerOut:
        s = sterilizers.create_sterilizer(
            db_session, code=data.code, name=data.name, kind=data.kind, actor=me.username
        )
        return sterilizer_out(s)

    @get("/", guards=[any_role], sync_to_thread=True, dependencies=PAGE, summary="Sterilizers")
    def list_sterilizers(self, db_session: Session, page: PageParams) -> Page[SterilizerOut]:
        statement = select(Sterilizer).order_by(Sterilizer.code)
        return paginate(db_session, statement, page, sterilizer_out)

    @get("/{code:str}", guards=[any_role], sync_to_thread=True, summary="One sterilizer")
    def get_one(self, code: PathKey, db_session: Session) -> SterilizerOut:
        return sterilizer_out(sterilizers.get_sterilizer(db_session, code))

    @patch(
        "/{code:str}",
        guards=[admin_only],
        sync_to_thread=True,
        summary="Put a sterilizer in or out of service, with a reason (admin)",
    )
    def change_status(
        self, code: PathKey, data: SterilizerStatusChange, db_session: Session, me: CurrentUser
    ) -> SterilizerOut:
        s = sterilizers.change_status(
            db_session, code, status=data.status, reason=data.reason, actor=me.username
        )
        return sterilizer_out(s)


class CycleTypeController(Controller):
    path = "/api/v1/cycle-types"
    tags = ["sterilization"]

    @get("/", guards=[any_role], sync_to_thread=True, summary="Cycle types and their minimums")
    def list_types(self, db_session: Session) -> Page[CycleTypeOut]:
        rules = cycles.list_cycle_types(db_session)
        return Page(
            items=[cycle_type_out(r) for r in rules], total=len(rules), limit=len(rules), offset=0
        )

    @post("/", guards=[admin_only], sync_to_thread=True, summary="Configure a cycle type (admin)")
    def create(self, data: CycleTypeCreate, db_session: Session, me: CurrentUser) -> CycleTypeOut:
        rule = cycles.create_cycle_type(
            db_session,
            code=data.code,
            name=data.name,
            min_temperature_c=data.min_temperature_c,
            min_exposure_minutes=data.min_exposure_minutes,
            sterilizer_kinds=list(data.sterilizer_kinds),
            actor=me.username,
        )
        return cycle_type_out(rule)


PackStatus = Literal[
    "assembled", "loaded", "sterile", "quarantined", "failed", "used", "recalled", "compromised"
]


class PackController(Controller):
    path = "/api/v1/packs"
    tags = ["sterilization"]

    @post("/", guards=[ma_or_admin], sync_to_thread=True, summary="Assemble packs (one per label)")
    def create(
        self, data: PackCreate, db_session: Session, me: CurrentUser, state: State
    ) -> PackList:
        clinic = clinic_of(state)
        codes = packs.create_packs(
            db_session,
            description=data.description.strip(),
            contents=[msgspec.to_builtins(c) for c in data.contents],
            quantity=data.quantity,
            implant=data.implant,
            actor=me.username,
        )
        views, _ = packs.list_pack_views(
            db_session, clinic=clinic, where=[Pack.code.in_(codes)], limit=len(codes), offset=0
        )
        return PackList(items=[pack_out(v) for v in views])

    @get("/", guards=[any_role], sync_to_thread=True, dependencies=PAGE, summary="Packs")
    def list_packs(
        self,
        db_session: Session,
        page: PageParams,
        state: State,
        status: PackStatus | None = None,
        cycle: Annotated[int | None, Parameter(ge=1, le=MAX_ID)] = None,
    ) -> Page[PackOut]:
        where = []
        if status is not None:
            where.append(Pack.status == status)
        if cycle is not None:
            where.append(Pack.cycle_id == cycle)
        views, total = packs.list_pack_views(
            db_session, clinic=clinic_of(state), where=where, limit=page.limit, offset=page.offset
        )
        return Page(
            items=[pack_out(v) for v in views], total=total, limit=page.limit, offset=page.offset
        )

    @get(
        "/{code:str}",
        guards=[any_role],
        sync_to_thread=True,
        summary="A scanned pack: is it safe to use, and why not",
    )
    def get_one(self, code: PathKey, db_session: Session, state: State) -> PackOut:
        return pack_out(packs.get_pack_view(db_session, code, clinic=clinic_of(state)))

    @post(
        "/{code:str}/use",
        guards=[ma_or_admin],
        sync_to_thread=True,
        status_code=200,
        summary="Record use on a patient encounter (409 with reasons if not usable)",
    )
    def use(
        self, code: PathKey, data: PackUse, db_session: Session, me: CurrentUser, state: State
    ) -> PackOut:
        clinic = clinic_of(state)
        packs.use_pack(
            db_session, code, encounter_ref=data.encounter_ref, actor=me.username, clinic=clinic
        )
        return pack_out(packs.get_pack_view(db_session, code, clinic=clinic))

    @post(
        "/{code:str}/compromise",
        guards=[ma_or_admin],
        sync_to_thread=True,
        status_code=200,
        summary="Mark a pack compromised (torn, wet, dropped)",
    )
    def compromise(
        self,
        code: PathKey,
        data: PackCompromise,
        db_session: Session,
        me: CurrentUser,
        state: State,
    ) -> PackOut:
        packs.compromise_pack(db_session, code, reason=data.reason, actor=me.username)
        return pack_out(packs.get_pack_view(db_session, code, clinic=clinic_of(state)))

    @get(
        "/{code:str}/history",
        guards=[any_role],
        sync_to_thread=True,
        dependencies=PAGE,
        summary="Every event of a pack, in order, with its cycle's indicator results",
    )
    def history(self, code: PathKey, db_session: Session, page: PageParams) -> Page[PackEventOut]:
        # With the indicator results and amendments of its cycle (sterilization/trace.py).
        events, total = trace.pack_history(db_session, code, limit=page.limit, offset=page.offset)
        return Page(
            items=[
                PackEventOut(at=e.at, event=e.event, actor=e.actor, details=e.details)
                for e in events
            ],
            total=total,
            limit=page.limit,
            offset=page.offset,
        )

    @delete(
        "/{code:str}",
        guards=[any_role],
        include_in_schema=False,
        status_code=405,
        sync_to_thread=False,
    )
    def delete_pack(self, code: PathKey) -> None:
        raise deletion_refused("Packs")


CycleStatus = Literal["running", "passed", "failed", "awaiting_bi"]


class CycleController(Controller):
    path = "/api/v1/cycles"
    tags = ["sterilization"]

    @post("/", guards=[ma_or_admin], sync_to_thread=True, summary="Start a cycle (load)")
    def start(
        self, data: CycleStart, db_session: Session, me: CurrentUser, state: State
    ) -> CycleStarted:
        cycle, warnings = cycles.start_cycle(
            db_session,
            sterilizer_code=data.sterilizer,
            cycle_type=data.cycle_type,
            pack_codes=list(data.packs),
            bi_lot=data.bi_lot,
            implants=data.implants,
            actor=me.username,
            clinic=clinic_of(state),
        )
        return CycleStarted(
            id=cycle.id,
            sterilizer=data.sterilizer,
            number=cycle.number,
            cycle_type=cycle.cycle_type,
            status=cycle.status,
            warnings=warnings,
            started_at=cycle.started_at,
            operator=cycle.operator,
            packs=[packs.normalize_code(c) for c in data.packs],
        )

    @get("/", guards=[any_role], sync_to_thread=True, dependencies=PAGE, summary="The cycle log")
    def list_cycles(
        self,
        db_session: Session,
        page: PageParams,
        state: State,
        sterilizer: QueryText(40) = None,
        status: CycleStatus | None = None,
        from_: FromParam = None,
        to: QueryText(40) = None,
    ) -> Page[CycleRow]:
        clinic = clinic_of(state)
        where: list[Any] = []
        if sterilizer:
            where.append(Sterilizer.code == sterilizer)
        if status:
            where.append(Cycle.status == status)
        start = parse_when(from_, clinic, name="from", end=False)
        end = parse_when(to, clinic, name="to", end=True)
        if start is not None:
            where.append(Cycle.started_at >= start)
        if end is not None:
            where.append(Cycle.started_at < end if len(to or "") == 10 else Cycle.started_at <= end)
        base = select(Cycle).join(Sterilizer, Sterilizer.id == Cycle.sterilizer_id).where(*where)
        total = db_session.scalar(select(func.count()).select_from(base.subquery())) or 0
        pack_count = (
            select(func.count()).select_from(Pack).where(Pack.cycle_id == Cycle.id)
        ).scalar_subquery()
        rows = db_session.execute(
            select(Cycle, Sterilizer.code, BiResult.result, pack_count)
            .join(Sterilizer, Sterilizer.id == Cycle.sterilizer_id)
            .outerjoin(BiResult, BiResult.cycle_id == Cycle.id)
            .where(*where)
            .order_by(Cycle.started_at.desc(), Cycle.id.desc())
            .limit(page.limit)
            .offset(page.offset)
        ).all()
        items = [
            CycleRow(
                id=c.id,
                sterilizer=code,
                number=c.number,
                cycle_type=c.cycle_type,
                status=c.status,
                operator=c.operator,
                started_at=c.started_at,
                ended_at=c.ended_at,
                implants=c.implants,
                bi_lot=c.bi_lot,
                bi_result=bi_result,
                pack_count=count or 0,
            )
            for c, code, bi_result, count in rows
        ]
        return Page(items=items, total=total, limit=page.limit, offset=page.offset)

    @get(
        "/{cycle_id:int}",
        guards=[any_role],
        sync_to_thread=True,
        summary="A cycle with packs, readings, BI, operator and amendments",
    )
    def get_one(self, cycle_id: RowId, db_session: Session) -> CycleDetail:
        return cycle_detail(db_session, cycle_id)

    @post(
        "/{cycle_id:int}/complete",
        guards=[ma_or_admin],
        sync_to_thread=True,
        status_code=200,
        summary="Record the readings; decides passed / awaiting_bi / failed",
    )
    def complete(
        self,
        cycle_id: RowId,
        data: CycleComplete,
        db_session: Session,
        me: CurrentUser,
        state: State,
    ) -> CycleDetail:
        cycles.complete_cycle(
            db_session,
            cycle_id,
            data=msgspec.structs.asdict(data),
            actor=me.username,
            clinic=clinic_of(state),
        )
        return cycle_detail(db_session, cycle_id)

    @post(
        "/{cycle_id:int}/bi-result",
        guards=[ma_or_admin],
        sync_to_thread=True,
        status_code=200,
        summary="Record a spore-test (BI) result",
    )
    def bi_result(
        self, cycle_id: RowId, data: BiResultIn, db_session: Session, me: CurrentUser, state: State
    ) -> CycleDetail:
        indicators.record_bi_result(
            db_session,
            cycle_id,
            result=data.result,
            control_grew=data.control_grew,
            lot=data.lot,
            actor=me.username,
            clinic=clinic_of(state),
        )
        return cycle_detail(db_session, cycle_id)

    @post(
        "/{cycle_id:int}/amendments",
        guards=[ma_or_admin],
        sync_to_thread=True,
        summary="Append a correction to a completed cycle",
    )
    def amend(
        self, cycle_id: RowId, data: AmendmentIn, db_session: Session, me: CurrentUser
    ) -> AmendmentOut:
        amendment = cycles.add_amendment(
            db_session,
            cycle_id,
            field=data.field,
            value=data.value,
            reason=data.reason,
            actor=me.username,
        )
        return amendment_out(amendment)

    @delete(
        "/{cycle_id:int}",
        guards=[any_role],
        include_in_schema=False,
        status_code=405,
        sync_to_thread=False,
    )
    def delete_cycle(self, cycle_id: RowId) -> None:
        raise deletion_refused("Cycle records")


class RecallController(Controller):
    path = "/api/v1/recalls"
    tags = ["sterilization"]

    @get("/", guards=[any_role], sync_to_thread=True, dependencies=PAGE, summary="Recalls")
    def list_recalls(
        self,
        db_session: Session,
        page: PageParams,
        status: Literal["open", "confirmed", "released"] | None = None,
    ) -> Page[RecallRow]:
        where = [Recall.status == status] if status else []
        total = db_session.scalar(select(func.count()).select_from(Recall).where(*where)) or 0
        rows = db_session.scalars(
            select(Recall)
            .where(*where)
            .order_by(Recall.opened_at.desc(), Recall.id.desc())
            .limit(page.limit)
            .offset(page.offset)
        )
        return Page(
            items=[recall_row(db_session, r) for r in rows],
            total=total,
            limit=page.limit,
            offset=page.offset,
        )

    @get("/{recall_id:int}", guards=[any_role], sync_to_thread=True, summary="A recall and packs")
    def get_one(self, recall_id: RowId, db_session: Session) -> RecallDetail:
        return recall_detail(db_session, recall_id)

    @post(
        "/{recall_id:int}/resolve",
        guards=[admin_only],
        sync_to_thread=True,
        status_code=200,
        summary="Resolve a recall as confirmed or released (admin)",
    )
    def resolve(
        self,
        recall_id: RowId,
        data: RecallResolve,
        db_session: Session,
        me: CurrentUser,
        state: State,
    ) -> RecallDetail:
        recalls.resolve_recall(
            db_session,
            recall_id,
            resolution=data.resolution,
            reason=data.reason.strip(),
            actor=me.username,
            clinic=clinic_of(state),
        )
        return recall_detail(db_session, recall_id)


class EncounterController(Controller):
    path = "/api/v1/encounters"
    tags = ["sterilization"]

    @get(
        "/{ref:str}/packs",
        guards=[any_role],
        sync_to_thread=True,
        dependencies=PAGE,
        summary="Trace an encounter: the packs used, each with its cycle",
    )
    def packs_used(
        self, ref: PathKey, db_session: Session, page: PageParams, state: State
    ) -> Page[PackOut]:
        views, total = packs.list_pack_views(
            db_session,
            clinic=clinic_of(state),
            where=[Pack.encounter_ref == ref.strip()],
            limit=page.limit,
            offset=page.offset,
        )
        if total == 0 and not ref.strip():
            raise NotFound("Give an encounter reference.")
        return Page(
            items=[pack_out(v) for v in views], total=total, limit=page.limit, offset=page.offset
        )


route_handlers: list[Any] = [
    SterilizerController,
    CycleTypeController,
    PackController,
    CycleController,
    RecallController,
    EncounterController,
]
