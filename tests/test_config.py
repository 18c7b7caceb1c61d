"""The typed configuration: the schema is generated from it, shipped configs pass both, the merge, studies."""

import copy
import dataclasses
import typing

import jsonschema
import pytest
import yaml

from altrnn import config as cfgmod
from altrnn import netids
from altrnn.config import ConfigError, load

from tiny import REPO, TINY

# Overlays are layered over their base (snakemake --configfile base overlay); the others stand alone.
OVERLAYS = {"hmm_seeds.yaml": "hmm.yaml"}
SHIPPED = sorted(p for p in (REPO / "config").glob("*.yaml") if p.name not in OVERLAYS)
SCHEMA_FILE = REPO / "workflow" / "schemas" / "config.schema.yaml"


def test_committed_schema_is_the_generated_one():
    """Regenerate with: python -m altrnn.config > workflow/schemas/config.schema.yaml"""
    assert SCHEMA_FILE.read_text() == cfgmod.schema_yaml()


@pytest.mark.parametrize("section", list(cfgmod.SECTIONS))
def test_schema_and_section_classes_agree_key_by_key(section):
    """Keys, defaults and the JSON types of the committed schema match the dataclass fields."""
    schema = yaml.safe_load(SCHEMA_FILE.read_text())["$defs"][section]
    cls = cfgmod.SECTIONS[section]
    keys = cfgmod.section_keys(cls)
    assert set(schema["properties"]) == set(keys)
    hints = typing.get_type_hints(cls)
    json_types = {int: "integer", float: "number", str: "string"}
    for key, f in keys.items():
        prop = schema["properties"][key]
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        assert prop["default"] == cfgmod.canonical(default), key
        tp = hints[f.name]
        if tp in json_types and "enum" not in prop:
            assert prop["type"] == json_types[tp], key


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_configs_pass_the_schema_and_the_typed_loader(path):
    raw = yaml.safe_load(path.read_text())
    jsonschema.validate(raw, yaml.safe_load(SCHEMA_FILE.read_text()))
    cfg = load(raw)
    assert cfg.units  # a study config may have no task entries of its own


@pytest.mark.parametrize("overlay", list(OVERLAYS))
def test_shipped_overlays_pass_over_their_base(overlay):
    raw = cfgmod.deep_merge(yaml.safe_load((REPO / "config" / OVERLAYS[overlay]).read_text()),
                            yaml.safe_load((REPO / "config" / overlay).read_text()))
    jsonschema.validate(raw, yaml.safe_load(SCHEMA_FILE.read_text()))
    assert load(raw).hmms["cyclic4"].settings.seeds == (0, 1, 2, 3, 4)


def test_a_task_entry_merges_over_the_global_section_and_the_defaults():
    raw = copy.deepcopy(TINY)
    raw["tasks"]["flipflop"]["train"] = {"lr": 0.01}
    raw["tasks"]["flipflop"]["similarity"] = {"options": {"dsa": {"rank": 3}}}
    cfg = load(raw)
    ff, it = cfg.units["flipflop"], cfg.units["integration"]
    assert ff.train.lr == 0.01 and it.train.lr == TINY["train"]["lr"]
    assert ff.train.max_iters == TINY["train"]["max_iters"]
    assert ff.train.grad_clip == cfgmod.TrainConfig().grad_clip  # not in TINY: the default
    assert ff.similarity.options["dsa"] == {"n_delays": 4, "rank": 3}  # nested options merge
    assert ff.params["T"] == 20 and ff.params["n_bits"] == 3  # task defaults filled in
    assert ff.net_ids() == ["std-g1-s0", "std-g1.5-s0", "ref", "alt1"]


def test_a_reordered_config_gives_identical_settings():
    raw = copy.deepcopy(TINY)
    shuffled = yaml.safe_load(yaml.safe_dump(raw, sort_keys=True))
    shuffled["model"] = dict(reversed(list(shuffled["model"].items())))
    shuffled["tasks"]["flipflop"]["params"] = {"n_bits": 3, "T": 20}
    a, b = load(raw).units["flipflop"], load(shuffled).units["flipflop"]
    assert cfgmod.canonical(a) == cfgmod.canonical(b)
    assert list(cfgmod.canonical(a.model)) == sorted(cfgmod.canonical(a.model))


def _study_config(**study):
    raw = copy.deepcopy(TINY)
    raw["studies"] = {"width": {"base": "flipflop", **study}}
    return raw


def test_study_product_and_zip_conditions_with_readable_labels():
    cfg = load(_study_config(axes={"model.n_rec": [4, 8], "train.lr": [0.01, 0.001]}))
    study = cfg.studies["width"]
    assert study.conditions == [netids.condition_label("width", c) for c in
                                ("n_rec-4_lr-0.01", "n_rec-4_lr-0.001", "n_rec-8_lr-0.01", "n_rec-8_lr-0.001")]
    unit = cfg.units["studies/width/n_rec-8_lr-0.001"]
    assert unit.model.n_rec == 8 and unit.train.lr == 0.001 and unit.study == "width"
    assert unit.axes == {"model.n_rec": 8, "train.lr": 0.001}
    assert unit.params == cfg.units["flipflop"].params  # the base entry's own settings
    zipped = load(_study_config(axes={"model.n_rec": [4, 8], "train.lr": [0.01, 0.001]}, combine="zip"))
    assert [c.rsplit("/", 1)[1] for c in zipped.studies["width"].conditions] == ["n_rec-4_lr-0.01", "n_rec-8_lr-0.001"]


def test_a_replicate_axis_must_be_a_later_axis_of_the_study():
    axes = {"insd.lambda": [0.5, 2.0], "insd.seed": [100, 101]}
    assert load(_study_config(axes=axes, replicates="insd.seed")).studies["width"].replicates == "insd.seed"
    assert load(_study_config(axes=axes)).studies["width"].replicates is None
    for bad in ("insd.lambda", "insd.rho"):
        with pytest.raises(ConfigError, match=rf"studies.width.replicates: '{bad}' must name one of the study's"):
            load(_study_config(axes=axes, replicates=bad))


def test_study_overrides_sit_between_the_base_and_the_axes():
    cfg = load(_study_config(axes={"standard.g": [[0.5], [1.0, 2.0]]}, standard={"seeds": [3, 4]},
                             insd={"n_alternatives": 0}, params={"n_bits": 2}))
    labels = cfg.studies["width"].conditions
    assert labels == ["studies/width/g-0.5", "studies/width/g-1+2"]
    unit = cfg.units[labels[1]]
    assert unit.net_ids() == ["std-g1-s3", "std-g1-s4", "std-g2-s3", "std-g2-s4", "ref"]
    assert unit.params["n_bits"] == 2 and unit.params["T"] == 20


def test_every_kind_of_axis_from_the_issue():
    axes = {"model.n_rec": [4], "params.n_bits": [1], "train.lr": [0.01], "insd.lambda": [0.5],
            "standard.g": [[1.5]], "similarity.options.dsa.rank": [2]}
    unit = next(u for u in load(_study_config(axes=axes)).units.values() if u.study)
    assert (unit.model.n_rec, unit.params["n_bits"], unit.train.lr, unit.insd.lam, unit.standard.g) == \
        (4, 1, 0.01, 0.5, (1.5,))
    assert unit.similarity.options["dsa"] == {"n_delays": 4, "rank": 2}


@pytest.mark.parametrize("axes,message", [
    ({"model.n_recc": [4]}, "studies.width.axes.model.n_recc: unknown key 'n_recc' of model"),
    ({"params.n_bitz": [2]}, "studies.width.axes.params.n_bitz: value 2 is rejected"),
    ({"model.n_rec": []}, "studies.width.axes.model.n_rec: an axis needs a non-empty list of values"),
    ({"model.n_rec": [8, -3]}, "studies.width.axes.model.n_rec: value -3 is rejected"),
    ({"train.lr": [0.1, "fast"]}, "studies.width.axes.train.lr: value 'fast' is rejected"),
    ({"nonsense": [1]}, "studies.width.axes.nonsense: an axis must be a dotted key"),
    ({}, "studies.width.axes: give at least one axis"),
])
def test_bad_study_specs_name_the_study_axis_and_value(axes, message):
    with pytest.raises(ConfigError) as err:
        load(_study_config(axes=axes))
    assert message in str(err.value)


def test_other_bad_study_specs():
    with pytest.raises(ConfigError, match=r"studies.width.base: 'flopflip' is not an entry of `tasks`"):
        load(_study_config(axes={"model.n_rec": [4]}, base="flopflip"))
    with pytest.raises(ConfigError, match="zipped axes need equal lengths"):
        load(_study_config(axes={"model.n_rec": [4, 8], "train.lr": [0.1]}, combine="zip"))
    with pytest.raises(ConfigError, match=r"studies.width.axz: unknown key"):
        load(_study_config(axes={"model.n_rec": [4]}, axz=1))
    with pytest.raises(ConfigError, match="both labelled 'n_rec-4'"):
        load(_study_config(axes={"model.n_rec": [4, 4]}))


def test_config_errors_name_the_key():
    for path, value, message in [
        (("model", "n_rec"), -3, "model.n_rec: must be >= 1, got -3"),
        (("train", "lerning_rate"), 0.1, "train.lerning_rate: unknown key"),
        (("insd", "rho_mode"), "sometimes", "insd.rho_mode: 'sometimes' is not one of"),
        (("standard", "g"), [1.0, 1], "standard.g: values must be distinct"),
        (("tasks", "flipflop"), {"params": {"T": -1}}, "tasks.flipflop.params"),
        (("tasks", "flipflop"), {"similarity": {"options": {"dssa": {}}}}, "options.dssa: unknown metric"),
    ]:
        raw = copy.deepcopy(TINY)
        raw[path[0]][path[1]] = value
        with pytest.raises(ConfigError) as err:
            load(raw)
        assert message in str(err.value), (path, str(err.value))
    with pytest.raises(ConfigError, match="modle: unknown top-level key"):
        load({**TINY, "modle": {}})
    with pytest.raises(ConfigError, match="tasks.figures: a task label"):
        load({**TINY, "tasks": {"figures": {"task": "flipflop"}}})


def test_network_ids_are_exact():
    assert netids.standard_id(1.0, 0) == "std-g1-s0"
    assert netids.standard_id(0.5, 2) == "std-g0.5-s2"
    assert netids.standard_id(1.23456789, 0) == "std-g1.23456789-s0"
    assert netids.standard_id(1e-5, 0) == "std-g1e-05-s0"
    for g in (1.0, 0.5, 1.23456789, 1e-5, 3e8):
        m = netids.STANDARD.match(netids.standard_id(g, 1))
        assert float(m["g"]) == g
    assert netids.family_of("std-g1.5-s3") == "g=1.5" and netids.group_of("std-g1.5-s3") == "std"
    assert netids.net_order(["alt2", "ref", "std-g1.5-s0", "alt1", "std-g0.5-s1"]) == \
        ["std-g0.5-s1", "std-g1.5-s0", "ref", "alt1", "alt2"]
    assert netids.unit_of("results/studies/w/n_rec-4/nets/ref/model.npz") == "studies/w/n_rec-4"
    assert netids.unit_of("results/flipflop/degeneracy.csv") == "flipflop"
