{#
    A reading counts only from the moment its customer agreed to share data
    for research (R2, R4). The var include_pre_consent_readings=true drops the
    time condition to reproduce the seed system's numbers.
#}
{% macro within_research_consent(reading_epoch_ms, consent_epoch_ms) -%}
    {%- if var('include_pre_consent_readings') -%}
        true
    {%- else -%}
        {{ reading_epoch_ms }} >= {{ consent_epoch_ms }}
    {%- endif -%}
{%- endmacro %}
