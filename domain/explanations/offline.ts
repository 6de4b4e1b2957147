// The deterministic explainer: what the service says about a verdict without an LLM. Written from the
// session's facts (domain/explanations/facts.ts) — what was found, where, how sure, what usually
// causes it, what to check — in English, German, Dutch, French and Polish, and labelled as
// generated without an LLM. Same facts, same language and style: the same text.
import type { AnomalyCategory } from '../analysis/types';
import { categoryContract } from './contract-text';
import type { AnomalyFacts, SessionFacts } from './facts';
import type { ExplanationStyle, OfflineLanguage } from './language';

type Num = (x: number, digits?: number) => string;

interface CategoryText {
  label: string;
  meaning: string;
  causes: string;
  checks: string;
  /** What the readings show in the anomaly's range, with the numbers. */
  data: (a: AnomalyFacts, f: SessionFacts, n: Num) => string;
}

interface Phrases {
  label: string;
  headlineAnomalies: (count: number, session: string, station: string, score: string, conf: string) => string;
  headlineNormal: (session: string, station: string, conf: string) => string;
  failed: (session: string, station: string, message: string) => string;
  readings: (count: number, from: string, to: string, minutes: string) => string;
  delivered: (kwh: string) => string;
  peak: (kw: string) => string;
  soc: (from: string, to: string) => string;
  truncated: string;
  where: (from: string, to: string, minutes: string) => string;
  buckets: (b0: number, b1: number) => string;
  sure: (word: string, conf: string, score: string) => string;
  certainty: [string, string, string, string];
  showHeading: string;
  causesHeading: string;
  checkHeading: string;
  ruleHeading: string;
  qualityHeading: string;
  normalAdvice: string;
  detector: (name: string) => string;
  noData: string;
  categories: Record<AnomalyCategory, CategoryText>;
}

const q = (x: string) => `"${x}"`;

const EN: Phrases = {
  label: '[Generated without an LLM: a deterministic explanation written from the verdict and the readings.]',
  headlineAnomalies: (c, s, st, score, conf) =>
    `${c === 1 ? 'One anomaly was' : `${c} anomalies were`} found in session ${q(s)} at charging station ${q(st)} (combined severity ${score}, confidence ${conf}).`,
  headlineNormal: (s, st, conf) => `No anomaly was found in session ${q(s)} at charging station ${q(st)} (confidence of this verdict ${conf}).`,
  failed: (s, st, m) => `The analysis of session ${q(s)} at charging station ${q(st)} failed: ${m}`,
  readings: (c, a, b, m) => `${c} usable meter values from ${a} to ${b} (${m} min).`,
  delivered: (k) => `The energy register delivered ${k} kWh.`,
  peak: (k) => `Peak power ${k} kW.`,
  soc: (a, b) => `State of charge went from ${a} % to ${b} %.`,
  truncated: 'The session spans more than 6 hours: only its last 6 hours were analysed.',
  where: (a, b, m) => `Where: ${a} to ${b} (${m} min)`,
  buckets: (b0, b1) => `15-second buckets ${b0}–${b1}`,
  sure: (w, c, s) => `How sure: ${w} (confidence ${c}, severity ${s}).`,
  certainty: ['very likely real', 'likely real', 'possible', 'uncertain'],
  showHeading: 'What the data show',
  causesHeading: 'Usual causes',
  checkHeading: 'What to check',
  ruleHeading: 'Contract rule',
  qualityHeading: 'Data quality',
  normalAdvice: 'Nothing needs checking for this session.',
  detector: (d) => `Detector: ${d}.`,
  noData: 'the readings in this range do not include the measurands needed to show more',
  categories: {
    ZERO_SESSION: {
      label: 'Zero session',
      meaning: 'the session delivered effectively no energy',
      causes: 'the vehicle never started charging (authorisation or plug problem, vehicle fault, scheduled charging that never began), or a charger that did not switch on',
      checks: 'the station log for the start of the transaction, the connector and cable, whether the driver reported a failed start, and other sessions of this station',
      data: (a, f, n) =>
        f.energy ? `the register rose only ${n(f.energy.deliveredKwh, 3)} kWh over ${n(f.durationMinutes ?? a.durationMinutes)} min` + (f.power ? `, peak power ${n(f.power.peakKw)} kW` : '') : EN.noData,
    },
    KWH_DECREASE: {
      label: 'Energy register decrease',
      meaning: 'the energy register went down and stayed down',
      causes: 'a meter reset or rollback, a swapped or replaced meter, or a firmware update that restarted the register',
      checks: 'the meter and its firmware version, station reboots around this time, and whether the billed energy uses the register difference',
      data: (a, _f, n) =>
        a.energy ? `the register fell from ${n(a.energy.maxBeforeKwh, 3)} kWh to ${n(a.energy.minKwh, 3)} kWh and ended the range at ${n(a.energy.endKwh, 3)} kWh` : EN.noData,
    },
    ENERGY_PIT: {
      label: 'Energy pit',
      meaning: 'the energy register dropped for a moment and came back to its previous trajectory',
      causes: 'a transient read error of the meter (often a 0 reported), a communication glitch between meter and charge controller, or a backend that filled a gap with 0',
      checks: 'the raw OCPP messages of this range, the meter link (Modbus/S0) of the station, and whether billing took the dip into account',
      data: (a, _f, n) =>
        a.energy ? `the register dipped from ${n(a.energy.beforeKwh, 3)} kWh to ${n(a.energy.minKwh, 3)} kWh and came back to ${n(a.energy.endKwh, 3)} kWh` : EN.noData,
    },
    UNEXPECTED_KWH_ACCUMULATE: {
      label: 'Unexplained energy accrual',
      meaning: 'energy accrued that the reported power cannot explain',
      causes: 'power readings that are stale or missing, a register that jumps (a catch-up after lost readings), or energy counted for another connector',
      checks: 'whether power and energy come from the same meter, the reporting interval of both measurands, and the other connector of the station',
      data: (a, _f, n) =>
        a.energy
          ? `the register rose ${n(a.energy.changeKwh, 3)} kWh` + (a.power ? ` while power read at most ${n(a.power.maxKw)} kW` : '') + (a.registerSlopeKw !== null ? ` (a register slope of ${n(a.registerSlopeKw)} kW)` : '')
          : EN.noData,
    },
    INCORRECT_ACTIVE_POWER_REGISTER: {
      label: 'Incorrect active power',
      meaning: "the reported power disagrees with the energy register's slope while both say energy flows",
      causes: 'power sent in W but labelled kW (or the reverse), one phase reported as the total, or a frozen power value',
      checks: 'the unit and phase configuration of Power.Active.Import in the station, and compare one reading with the register by hand',
      data: (a, _f, n) =>
        a.power && a.registerSlopeKw !== null
          ? `power read ${n(a.power.minKw)}–${n(a.power.maxKw)} kW (mean ${n(a.power.meanKw)} kW) while the register's slope was ${n(a.registerSlopeKw)} kW`
          : EN.noData,
    },
    UNEXPECTED_CHARGE_LEVEL_CHANGES: {
      label: 'Unexpected state-of-charge change',
      meaning: 'the state of charge moved in a way the delivered energy cannot explain',
      causes: 'the vehicle recalibrating its SoC estimate, a SoC value from another vehicle or session, or a scaling error (fraction sent as percent)',
      checks: 'the SoC source (vehicle via ISO 15118 or the charger), whether the session id was reused, and the SoC unit',
      data: (a, _f, n) =>
        a.soc
          ? `SoC went from ${n(a.soc.startPercent)} % to ${n(a.soc.endPercent)} % (${signed(a.soc.changePoints, n)} points)` + (a.energy ? ` while the register moved ${n(a.energy.changeKwh, 3)} kWh` : '')
          : EN.noData,
    },
    CHARGING_EXPECTED: {
      label: 'Charging stopped although expected',
      meaning: 'charging stopped or stalled although the vehicle still needed energy',
      causes: 'a charger fault or protective stop, load management cutting the point to zero, a lost connection to the backend, or the vehicle pausing on an error',
      checks: 'the station log for faults and StatusNotification messages at the stop, the load-management settings, and whether charging resumed',
      data: (a, f, n) =>
        `charging was idle for ${n(a.durationMinutes)} min` +
        (a.power ? ` (power at most ${n(a.power.maxKw)} kW` + (f.power ? ` against a session peak of ${n(f.power.peakKw)} kW)` : ')') : '') +
        (a.soc ? `, SoC ${n(a.soc.startPercent)} % when it stopped` : ''),
    },
  },
};

const DE: Phrases = {
  label: '[Ohne LLM erzeugt: eine deterministische Erklärung aus dem Befund und den Messwerten.]',
  headlineAnomalies: (c, s, st, score, conf) =>
    `In Ladevorgang ${q(s)} an Ladestation ${q(st)} ${c === 1 ? 'wurde eine Anomalie' : `wurden ${c} Anomalien`} gefunden (Gesamtschwere ${score}, Konfidenz ${conf}).`,
  headlineNormal: (s, st, conf) => `In Ladevorgang ${q(s)} an Ladestation ${q(st)} wurde keine Anomalie gefunden (Konfidenz dieses Befunds ${conf}).`,
  failed: (s, st, m) => `Die Analyse von Ladevorgang ${q(s)} an Ladestation ${q(st)} ist fehlgeschlagen: ${m}`,
  readings: (c, a, b, m) => `${c} verwertbare Messwerte von ${a} bis ${b} (${m} min).`,
  delivered: (k) => `Der Energiezähler hat ${k} kWh geliefert.`,
  peak: (k) => `Spitzenleistung ${k} kW.`,
  soc: (a, b) => `Der Ladezustand ging von ${a} % auf ${b} %.`,
  truncated: 'Der Ladevorgang dauert länger als 6 Stunden: nur die letzten 6 Stunden wurden analysiert.',
  where: (a, b, m) => `Wo: ${a} bis ${b} (${m} min)`,
  buckets: (b0, b1) => `15-Sekunden-Intervalle ${b0}–${b1}`,
  sure: (w, c, s) => `Wie sicher: ${w} (Konfidenz ${c}, Schwere ${s}).`,
  certainty: ['sehr wahrscheinlich echt', 'wahrscheinlich echt', 'möglich', 'unsicher'],
  showHeading: 'Was die Daten zeigen',
  causesHeading: 'Übliche Ursachen',
  checkHeading: 'Was zu prüfen ist',
  ruleHeading: 'Regel des Vertrags (englisch)',
  qualityHeading: 'Datenqualität',
  normalAdvice: 'Für diesen Ladevorgang ist nichts zu prüfen.',
  detector: (d) => `Detektor: ${d}.`,
  noData: 'die Messwerte dieses Bereichs enthalten nicht die Messgrößen, um mehr zu zeigen',
  categories: {
    ZERO_SESSION: {
      label: 'Nullsitzung',
      meaning: 'der Ladevorgang hat praktisch keine Energie geliefert',
      causes: 'das Fahrzeug hat nie zu laden begonnen (Autorisierungs- oder Steckerproblem, Fahrzeugfehler, geplante Ladung, die nie startete) oder die Ladestation hat nicht eingeschaltet',
      checks: 'das Stationsprotokoll zum Start der Transaktion, Ladepunkt und Kabel, ob der Fahrer einen Fehlstart gemeldet hat, und andere Ladevorgänge dieser Station',
      data: (a, f, n) =>
        f.energy ? `der Zähler stieg in ${n(f.durationMinutes ?? a.durationMinutes)} min nur um ${n(f.energy.deliveredKwh, 3)} kWh` + (f.power ? `, Spitzenleistung ${n(f.power.peakKw)} kW` : '') : DE.noData,
    },
    KWH_DECREASE: {
      label: 'Rückgang des Energiezählers',
      meaning: 'der Energiezähler ging zurück und blieb unten',
      causes: 'ein Zähler-Reset oder -Rücksprung, ein getauschter Zähler oder ein Firmware-Update, das den Zählerstand neu gestartet hat',
      checks: 'den Zähler und seine Firmware-Version, Neustarts der Station um diese Zeit und ob die Abrechnung die Zählerdifferenz verwendet',
      data: (a, _f, n) =>
        a.energy ? `der Zähler fiel von ${n(a.energy.maxBeforeKwh, 3)} kWh auf ${n(a.energy.minKwh, 3)} kWh und stand am Ende des Bereichs bei ${n(a.energy.endKwh, 3)} kWh` : DE.noData,
    },
    ENERGY_PIT: {
      label: 'Energieloch',
      meaning: 'der Energiezähler fiel kurz ab und kehrte auf seinen vorherigen Verlauf zurück',
      causes: 'ein kurzzeitiger Lesefehler des Zählers (oft eine gemeldete 0), eine Kommunikationsstörung zwischen Zähler und Laderegler oder ein Backend, das eine Lücke mit 0 gefüllt hat',
      checks: 'die rohen OCPP-Nachrichten dieses Bereichs, die Zähleranbindung (Modbus/S0) der Station und ob die Abrechnung den Einbruch berücksichtigt hat',
      data: (a, _f, n) =>
        a.energy ? `der Zähler fiel von ${n(a.energy.beforeKwh, 3)} kWh auf ${n(a.energy.minKwh, 3)} kWh und kehrte auf ${n(a.energy.endKwh, 3)} kWh zurück` : DE.noData,
    },
    UNEXPECTED_KWH_ACCUMULATE: {
      label: 'Unerklärter Energiezuwachs',
      meaning: 'es wurde Energie gezählt, die die gemeldete Leistung nicht erklären kann',
      causes: 'veraltete oder fehlende Leistungswerte, ein springender Zähler (Nachholen nach verlorenen Messwerten) oder Energie eines anderen Ladepunkts',
      checks: 'ob Leistung und Energie vom selben Zähler stammen, das Meldeintervall beider Messgrößen und den anderen Ladepunkt der Station',
      data: (a, _f, n) =>
        a.energy
          ? `der Zähler stieg um ${n(a.energy.changeKwh, 3)} kWh` + (a.power ? `, während die Leistung höchstens ${n(a.power.maxKw)} kW betrug` : '') + (a.registerSlopeKw !== null ? ` (Zählersteigung ${n(a.registerSlopeKw)} kW)` : '')
          : DE.noData,
    },
    INCORRECT_ACTIVE_POWER_REGISTER: {
      label: 'Falsche Wirkleistung',
      meaning: 'die gemeldete Leistung passt nicht zur Steigung des Energiezählers, obwohl beide Energiefluss anzeigen',
      causes: 'Leistung in W gesendet, aber als kW gekennzeichnet (oder umgekehrt), eine Phase als Summe gemeldet oder ein eingefrorener Leistungswert',
      checks: 'die Einheiten- und Phasenkonfiguration von Power.Active.Import in der Station; einen Messwert von Hand mit dem Zähler vergleichen',
      data: (a, _f, n) =>
        a.power && a.registerSlopeKw !== null
          ? `die Leistung lag bei ${n(a.power.minKw)}–${n(a.power.maxKw)} kW (Mittel ${n(a.power.meanKw)} kW), die Zählersteigung bei ${n(a.registerSlopeKw)} kW`
          : DE.noData,
    },
    UNEXPECTED_CHARGE_LEVEL_CHANGES: {
      label: 'Unerwartete Änderung des Ladezustands',
      meaning: 'der Ladezustand änderte sich so, wie es die gelieferte Energie nicht erklären kann',
      causes: 'das Fahrzeug kalibriert seine SoC-Schätzung neu, ein SoC-Wert eines anderen Fahrzeugs oder Ladevorgangs, oder ein Skalierungsfehler (Bruchteil als Prozent gesendet)',
      checks: 'die SoC-Quelle (Fahrzeug über ISO 15118 oder Ladestation), ob die Sitzungs-ID wiederverwendet wurde, und die SoC-Einheit',
      data: (a, _f, n) =>
        a.soc
          ? `der Ladezustand ging von ${n(a.soc.startPercent)} % auf ${n(a.soc.endPercent)} % (${signed(a.soc.changePoints, n)} Punkte)` + (a.energy ? `, während sich der Zähler um ${n(a.energy.changeKwh, 3)} kWh bewegte` : '')
          : DE.noData,
    },
    CHARGING_EXPECTED: {
      label: 'Ladeabbruch trotz Bedarf',
      meaning: 'das Laden stoppte oder stockte, obwohl das Fahrzeug noch Energie brauchte',
      causes: 'ein Fehler oder eine Schutzabschaltung der Ladestation, ein Lastmanagement, das den Ladepunkt auf null setzte, eine verlorene Backend-Verbindung oder ein Fahrzeugfehler',
      checks: 'das Stationsprotokoll auf Fehler und StatusNotification-Meldungen beim Stopp, die Lastmanagement-Einstellungen und ob das Laden wieder aufgenommen wurde',
      data: (a, f, n) =>
        `das Laden ruhte ${n(a.durationMinutes)} min` +
        (a.power ? ` (Leistung höchstens ${n(a.power.maxKw)} kW` + (f.power ? ` bei einer Spitze von ${n(f.power.peakKw)} kW im Ladevorgang)` : ')') : '') +
        (a.soc ? `, Ladezustand ${n(a.soc.startPercent)} % beim Stopp` : ''),
    },
  },
};

const NL: Phrases = {
  label: '[Gegenereerd zonder LLM: een deterministische uitleg op basis van het oordeel en de meetwaarden.]',
  headlineAnomalies: (c, s, st, score, conf) =>
    `In laadsessie ${q(s)} bij laadstation ${q(st)} ${c === 1 ? 'is één anomalie' : `zijn ${c} anomalieën`} gevonden (gecombineerde ernst ${score}, betrouwbaarheid ${conf}).`,
  headlineNormal: (s, st, conf) => `In laadsessie ${q(s)} bij laadstation ${q(st)} is geen anomalie gevonden (betrouwbaarheid van dit oordeel ${conf}).`,
  failed: (s, st, m) => `De analyse van laadsessie ${q(s)} bij laadstation ${q(st)} is mislukt: ${m}`,
  readings: (c, a, b, m) => `${c} bruikbare meetwaarden van ${a} tot ${b} (${m} min).`,
  delivered: (k) => `De energieteller leverde ${k} kWh.`,
  peak: (k) => `Piekvermogen ${k} kW.`,
  soc: (a, b) => `De laadtoestand ging van ${a} % naar ${b} %.`,
  truncated: 'De sessie duurt langer dan 6 uur: alleen de laatste 6 uur zijn geanalyseerd.',
  where: (a, b, m) => `Waar: ${a} tot ${b} (${m} min)`,
  buckets: (b0, b1) => `intervallen van 15 seconden ${b0}–${b1}`,
  sure: (w, c, s) => `Hoe zeker: ${w} (betrouwbaarheid ${c}, ernst ${s}).`,
  certainty: ['zeer waarschijnlijk echt', 'waarschijnlijk echt', 'mogelijk', 'onzeker'],
  showHeading: 'Wat de gegevens laten zien',
  causesHeading: 'Gebruikelijke oorzaken',
  checkHeading: 'Wat te controleren',
  ruleHeading: 'Regel uit het contract (Engels)',
  qualityHeading: 'Gegevenskwaliteit',
  normalAdvice: 'Voor deze sessie hoeft niets gecontroleerd te worden.',
  detector: (d) => `Detector: ${d}.`,
  noData: 'de meetwaarden in dit bereik bevatten niet de grootheden om meer te laten zien',
  categories: {
    ZERO_SESSION: {
      label: 'Nulsessie',
      meaning: 'de sessie leverde vrijwel geen energie',
      causes: 'het voertuig is nooit gaan laden (autorisatie- of stekkerprobleem, voertuigfout, gepland laden dat nooit begon) of een laadpaal die niet inschakelde',
      checks: 'het stationslog bij de start van de transactie, de connector en kabel, of de bestuurder een mislukte start meldde, en andere sessies van dit station',
      data: (a, f, n) =>
        f.energy ? `de teller steeg in ${n(f.durationMinutes ?? a.durationMinutes)} min maar ${n(f.energy.deliveredKwh, 3)} kWh` + (f.power ? `, piekvermogen ${n(f.power.peakKw)} kW` : '') : NL.noData,
    },
    KWH_DECREASE: {
      label: 'Daling van de energieteller',
      meaning: 'de energieteller ging omlaag en bleef laag',
      causes: 'een reset of terugval van de meter, een vervangen meter, of een firmware-update die de teller opnieuw startte',
      checks: 'de meter en zijn firmwareversie, herstarts van het station rond dit tijdstip, en of de facturatie het tellerverschil gebruikt',
      data: (a, _f, n) =>
        a.energy ? `de teller daalde van ${n(a.energy.maxBeforeKwh, 3)} kWh naar ${n(a.energy.minKwh, 3)} kWh en stond aan het eind van het bereik op ${n(a.energy.endKwh, 3)} kWh` : NL.noData,
    },
    ENERGY_PIT: {
      label: 'Energiedip',
      meaning: 'de energieteller zakte even weg en keerde terug naar zijn eerdere verloop',
      causes: 'een kortstondige leesfout van de meter (vaak een gemelde 0), een communicatiestoring tussen meter en laadcontroller, of een backend die een gat met 0 vulde',
      checks: 'de ruwe OCPP-berichten van dit bereik, de meterverbinding (Modbus/S0) van het station, en of de facturatie de dip meenam',
      data: (a, _f, n) =>
        a.energy ? `de teller zakte van ${n(a.energy.beforeKwh, 3)} kWh naar ${n(a.energy.minKwh, 3)} kWh en kwam terug op ${n(a.energy.endKwh, 3)} kWh` : NL.noData,
    },
    UNEXPECTED_KWH_ACCUMULATE: {
      label: 'Onverklaarde energietoename',
      meaning: 'er werd energie geteld die het gemelde vermogen niet kan verklaren',
      causes: 'verouderde of ontbrekende vermogenswaarden, een teller die verspringt (inhalen na verloren meetwaarden), of energie van een andere connector',
      checks: 'of vermogen en energie van dezelfde meter komen, het meldinterval van beide grootheden, en de andere connector van het station',
      data: (a, _f, n) =>
        a.energy
          ? `de teller steeg ${n(a.energy.changeKwh, 3)} kWh` + (a.power ? ` terwijl het vermogen hoogstens ${n(a.power.maxKw)} kW was` : '') + (a.registerSlopeKw !== null ? ` (een tellerhelling van ${n(a.registerSlopeKw)} kW)` : '')
          : NL.noData,
    },
    INCORRECT_ACTIVE_POWER_REGISTER: {
      label: 'Onjuist actief vermogen',
      meaning: 'het gemelde vermogen klopt niet met de helling van de energieteller terwijl beide energiestroom aangeven',
      causes: 'vermogen in W verzonden maar als kW gelabeld (of omgekeerd), één fase als totaal gemeld, of een bevroren vermogenswaarde',
      checks: 'de eenheid- en faseconfiguratie van Power.Active.Import in het station; vergelijk één meetwaarde met de hand met de teller',
      data: (a, _f, n) =>
        a.power && a.registerSlopeKw !== null
          ? `het vermogen was ${n(a.power.minKw)}–${n(a.power.maxKw)} kW (gemiddeld ${n(a.power.meanKw)} kW) terwijl de tellerhelling ${n(a.registerSlopeKw)} kW was`
          : NL.noData,
    },
    UNEXPECTED_CHARGE_LEVEL_CHANGES: {
      label: 'Onverwachte verandering van de laadtoestand',
      meaning: 'de laadtoestand veranderde op een manier die de geleverde energie niet kan verklaren',
      causes: 'het voertuig dat zijn SoC-schatting herkalibreert, een SoC-waarde van een ander voertuig of andere sessie, of een schaalfout (fractie als procent verzonden)',
      checks: 'de SoC-bron (voertuig via ISO 15118 of de laadpaal), of het sessie-id hergebruikt werd, en de SoC-eenheid',
      data: (a, _f, n) =>
        a.soc
          ? `de laadtoestand ging van ${n(a.soc.startPercent)} % naar ${n(a.soc.endPercent)} % (${signed(a.soc.changePoints, n)} punten)` + (a.energy ? ` terwijl de teller ${n(a.energy.changeKwh, 3)} kWh veranderde` : '')
          : NL.noData,
    },
    CHARGING_EXPECTED: {
      label: 'Laden gestopt terwijl verwacht',
      meaning: 'het laden stopte of stokte terwijl het voertuig nog energie nodig had',
      causes: 'een storing of beveiligingsstop van de laadpaal, loadbalancing die het laadpunt op nul zette, een verbroken verbinding met de backend, of een voertuig dat op een fout pauzeerde',
      checks: 'het stationslog op storingen en StatusNotification-berichten bij de stop, de loadbalancing-instellingen, en of het laden hervat werd',
      data: (a, f, n) =>
        `het laden stond ${n(a.durationMinutes)} min stil` +
        (a.power ? ` (vermogen hoogstens ${n(a.power.maxKw)} kW` + (f.power ? ` tegen een sessiepiek van ${n(f.power.peakKw)} kW)` : ')') : '') +
        (a.soc ? `, laadtoestand ${n(a.soc.startPercent)} % bij de stop` : ''),
    },
  },
};

const FR: Phrases = {
  label: '[Généré sans LLM : une explication déterministe rédigée à partir du verdict et des relevés.]',
  headlineAnomalies: (c, s, st, score, conf) =>
    `${c === 1 ? 'Une anomalie a été trouvée' : `${c} anomalies ont été trouvées`} dans la session ${q(s)} à la borne ${q(st)} (gravité combinée ${score}, confiance ${conf}).`,
  headlineNormal: (s, st, conf) => `Aucune anomalie n'a été trouvée dans la session ${q(s)} à la borne ${q(st)} (confiance de ce verdict ${conf}).`,
  failed: (s, st, m) => `L'analyse de la session ${q(s)} à la borne ${q(st)} a échoué : ${m}`,
  readings: (c, a, b, m) => `${c} relevés exploitables de ${a} à ${b} (${m} min).`,
  delivered: (k) => `Le compteur d'énergie a fourni ${k} kWh.`,
  peak: (k) => `Puissance de pointe ${k} kW.`,
  soc: (a, b) => `L'état de charge est passé de ${a} % à ${b} %.`,
  truncated: 'La session dure plus de 6 heures : seules ses 6 dernières heures ont été analysées.',
  where: (a, b, m) => `Où : de ${a} à ${b} (${m} min)`,
  buckets: (b0, b1) => `intervalles de 15 secondes ${b0}–${b1}`,
  sure: (w, c, s) => `Certitude : ${w} (confiance ${c}, gravité ${s}).`,
  certainty: ['très probablement réelle', 'probablement réelle', 'possible', 'incertaine'],
  showHeading: 'Ce que montrent les données',
  causesHeading: 'Causes habituelles',
  checkHeading: 'À vérifier',
  ruleHeading: 'Règle du contrat (en anglais)',
  qualityHeading: 'Qualité des données',
  normalAdvice: "Rien n'est à vérifier pour cette session.",
  detector: (d) => `Détecteur : ${d}.`,
  noData: 'les relevés de cette plage ne contiennent pas les grandeurs nécessaires pour en montrer davantage',
  categories: {
    ZERO_SESSION: {
      label: 'Session nulle',
      meaning: "la session n'a fourni pratiquement aucune énergie",
      causes: "le véhicule n'a jamais commencé à charger (problème d'autorisation ou de prise, défaut du véhicule, charge programmée jamais démarrée), ou une borne qui ne s'est pas enclenchée",
      checks: 'le journal de la borne au début de la transaction, le connecteur et le câble, si le conducteur a signalé un échec de démarrage, et les autres sessions de cette borne',
      data: (a, f, n) =>
        f.energy ? `le compteur n'a augmenté que de ${n(f.energy.deliveredKwh, 3)} kWh en ${n(f.durationMinutes ?? a.durationMinutes)} min` + (f.power ? `, puissance de pointe ${n(f.power.peakKw)} kW` : '') : FR.noData,
    },
    KWH_DECREASE: {
      label: "Baisse du compteur d'énergie",
      meaning: "le compteur d'énergie a baissé et est resté bas",
      causes: 'une remise à zéro ou un retour en arrière du compteur, un compteur remplacé, ou une mise à jour du micrologiciel qui a redémarré le compteur',
      checks: 'le compteur et la version de son micrologiciel, les redémarrages de la borne à ce moment, et si la facturation utilise la différence du compteur',
      data: (a, _f, n) =>
        a.energy ? `le compteur est passé de ${n(a.energy.maxBeforeKwh, 3)} kWh à ${n(a.energy.minKwh, 3)} kWh et finissait la plage à ${n(a.energy.endKwh, 3)} kWh` : FR.noData,
    },
    ENERGY_PIT: {
      label: "Creux d'énergie",
      meaning: "le compteur d'énergie a chuté un instant puis a repris sa trajectoire précédente",
      causes: 'une erreur de lecture passagère du compteur (souvent un 0), un problème de communication entre le compteur et le contrôleur de charge, ou un backend qui a comblé un trou par 0',
      checks: 'les messages OCPP bruts de cette plage, la liaison du compteur (Modbus/S0) de la borne, et si la facturation a tenu compte du creux',
      data: (a, _f, n) =>
        a.energy ? `le compteur est descendu de ${n(a.energy.beforeKwh, 3)} kWh à ${n(a.energy.minKwh, 3)} kWh puis revenu à ${n(a.energy.endKwh, 3)} kWh` : FR.noData,
    },
    UNEXPECTED_KWH_ACCUMULATE: {
      label: "Accumulation d'énergie inexpliquée",
      meaning: "de l'énergie a été comptée que la puissance déclarée ne peut pas expliquer",
      causes: "des valeurs de puissance figées ou manquantes, un compteur qui saute (rattrapage après des relevés perdus), ou de l'énergie d'un autre connecteur",
      checks: "si la puissance et l'énergie viennent du même compteur, l'intervalle d'envoi des deux grandeurs, et l'autre connecteur de la borne",
      data: (a, _f, n) =>
        a.energy
          ? `le compteur a augmenté de ${n(a.energy.changeKwh, 3)} kWh` + (a.power ? ` alors que la puissance était au plus de ${n(a.power.maxKw)} kW` : '') + (a.registerSlopeKw !== null ? ` (une pente du compteur de ${n(a.registerSlopeKw)} kW)` : '')
          : FR.noData,
    },
    INCORRECT_ACTIVE_POWER_REGISTER: {
      label: 'Puissance active incorrecte',
      meaning: "la puissance déclarée ne correspond pas à la pente du compteur d'énergie alors que les deux indiquent un flux d'énergie",
      causes: "une puissance envoyée en W mais étiquetée kW (ou l'inverse), une seule phase déclarée comme total, ou une valeur de puissance figée",
      checks: "la configuration d'unité et de phase de Power.Active.Import dans la borne ; comparer à la main un relevé avec le compteur",
      data: (a, _f, n) =>
        a.power && a.registerSlopeKw !== null
          ? `la puissance était de ${n(a.power.minKw)}–${n(a.power.maxKw)} kW (moyenne ${n(a.power.meanKw)} kW) alors que la pente du compteur était de ${n(a.registerSlopeKw)} kW`
          : FR.noData,
    },
    UNEXPECTED_CHARGE_LEVEL_CHANGES: {
      label: "Variation inattendue de l'état de charge",
      meaning: "l'état de charge a varié d'une manière que l'énergie fournie ne peut pas expliquer",
      causes: "le véhicule qui recalibre son estimation du SoC, une valeur de SoC d'un autre véhicule ou d'une autre session, ou une erreur d'échelle (fraction envoyée comme pourcentage)",
      checks: "la source du SoC (véhicule via ISO 15118 ou la borne), si l'identifiant de session a été réutilisé, et l'unité du SoC",
      data: (a, _f, n) =>
        a.soc
          ? `l'état de charge est passé de ${n(a.soc.startPercent)} % à ${n(a.soc.endPercent)} % (${signed(a.soc.changePoints, n)} points)` + (a.energy ? ` alors que le compteur a varié de ${n(a.energy.changeKwh, 3)} kWh` : '')
          : FR.noData,
    },
    CHARGING_EXPECTED: {
      label: 'Charge arrêtée alors qu’attendue',
      meaning: "la charge s'est arrêtée ou bloquée alors que le véhicule avait encore besoin d'énergie",
      causes: 'un défaut ou un arrêt de protection de la borne, une gestion de charge qui a mis le point à zéro, une connexion perdue avec le backend, ou un véhicule en pause sur une erreur',
      checks: "le journal de la borne (défauts et messages StatusNotification à l'arrêt), les réglages de gestion de charge, et si la charge a repris",
      data: (a, f, n) =>
        `la charge est restée à l'arrêt ${n(a.durationMinutes)} min` +
        (a.power ? ` (puissance au plus ${n(a.power.maxKw)} kW` + (f.power ? ` pour une pointe de session de ${n(f.power.peakKw)} kW)` : ')') : '') +
        (a.soc ? `, état de charge ${n(a.soc.startPercent)} % à l'arrêt` : ''),
    },
  },
};

const PL: Phrases = {
  label: '[Wygenerowano bez LLM: deterministyczne wyjaśnienie na podstawie werdyktu i odczytów.]',
  headlineAnomalies: (c, s, st, score, conf) =>
    `W sesji ${q(s)} na stacji ładowania ${q(st)} ${c === 1 ? 'wykryto jedną anomalię' : `wykryto anomalie: ${c}`} (łączna waga ${score}, pewność ${conf}).`,
  headlineNormal: (s, st, conf) => `W sesji ${q(s)} na stacji ładowania ${q(st)} nie wykryto anomalii (pewność tego werdyktu ${conf}).`,
  failed: (s, st, m) => `Analiza sesji ${q(s)} na stacji ładowania ${q(st)} nie powiodła się: ${m}`,
  readings: (c, a, b, m) => `Użyteczne odczyty: ${c}, od ${a} do ${b} (${m} min).`,
  delivered: (k) => `Licznik energii wskazał dostarczone ${k} kWh.`,
  peak: (k) => `Moc szczytowa ${k} kW.`,
  soc: (a, b) => `Stan naładowania zmienił się z ${a} % na ${b} %.`,
  truncated: 'Sesja trwa dłużej niż 6 godzin: przeanalizowano tylko jej ostatnie 6 godzin.',
  where: (a, b, m) => `Gdzie: od ${a} do ${b} (${m} min)`,
  buckets: (b0, b1) => `przedziały 15-sekundowe ${b0}–${b1}`,
  sure: (w, c, s) => `Pewność: ${w} (pewność ${c}, waga ${s}).`,
  certainty: ['bardzo prawdopodobnie rzeczywista', 'prawdopodobnie rzeczywista', 'możliwa', 'niepewna'],
  showHeading: 'Co pokazują dane',
  causesHeading: 'Typowe przyczyny',
  checkHeading: 'Co sprawdzić',
  ruleHeading: 'Reguła kontraktu (po angielsku)',
  qualityHeading: 'Jakość danych',
  normalAdvice: 'W tej sesji nie trzeba niczego sprawdzać.',
  detector: (d) => `Detektor: ${d}.`,
  noData: 'odczyty w tym zakresie nie zawierają wielkości potrzebnych, by pokazać więcej',
  categories: {
    ZERO_SESSION: {
      label: 'Sesja zerowa',
      meaning: 'sesja nie dostarczyła praktycznie żadnej energii',
      causes: 'pojazd nigdy nie zaczął ładować (problem z autoryzacją lub wtyczką, usterka pojazdu, zaplanowane ładowanie, które nie ruszyło) albo ładowarka się nie włączyła',
      checks: 'dziennik stacji z początku transakcji, złącze i kabel, czy kierowca zgłosił nieudany start, oraz inne sesje tej stacji',
      data: (a, f, n) =>
        f.energy ? `licznik wzrósł tylko o ${n(f.energy.deliveredKwh, 3)} kWh w ciągu ${n(f.durationMinutes ?? a.durationMinutes)} min` + (f.power ? `, moc szczytowa ${n(f.power.peakKw)} kW` : '') : PL.noData,
    },
    KWH_DECREASE: {
      label: 'Spadek licznika energii',
      meaning: 'licznik energii spadł i pozostał niżej',
      causes: 'reset lub cofnięcie licznika, wymieniony licznik albo aktualizacja oprogramowania, która uruchomiła licznik od nowa',
      checks: 'licznik i wersję jego oprogramowania, restarty stacji w tym czasie oraz czy rozliczenie korzysta z różnicy wskazań licznika',
      data: (a, _f, n) =>
        a.energy ? `licznik spadł z ${n(a.energy.maxBeforeKwh, 3)} kWh do ${n(a.energy.minKwh, 3)} kWh i na końcu zakresu wskazywał ${n(a.energy.endKwh, 3)} kWh` : PL.noData,
    },
    ENERGY_PIT: {
      label: 'Dołek energii',
      meaning: 'licznik energii na chwilę spadł i wrócił do poprzedniego przebiegu',
      causes: 'chwilowy błąd odczytu licznika (często zgłoszone 0), zakłócenie komunikacji między licznikiem a sterownikiem ładowania albo backend, który wypełnił lukę zerem',
      checks: 'surowe komunikaty OCPP z tego zakresu, połączenie licznika (Modbus/S0) w stacji oraz czy rozliczenie uwzględniło spadek',
      data: (a, _f, n) =>
        a.energy ? `licznik spadł z ${n(a.energy.beforeKwh, 3)} kWh do ${n(a.energy.minKwh, 3)} kWh i wrócił do ${n(a.energy.endKwh, 3)} kWh` : PL.noData,
    },
    UNEXPECTED_KWH_ACCUMULATE: {
      label: 'Niewyjaśniony przyrost energii',
      meaning: 'naliczono energię, której nie tłumaczy zgłaszana moc',
      causes: 'nieaktualne lub brakujące odczyty mocy, skaczący licznik (nadrabianie po utraconych odczytach) albo energia innego złącza',
      checks: 'czy moc i energia pochodzą z tego samego licznika, interwał wysyłania obu wielkości oraz drugie złącze stacji',
      data: (a, _f, n) =>
        a.energy
          ? `licznik wzrósł o ${n(a.energy.changeKwh, 3)} kWh` + (a.power ? `, podczas gdy moc wynosiła najwyżej ${n(a.power.maxKw)} kW` : '') + (a.registerSlopeKw !== null ? ` (nachylenie licznika ${n(a.registerSlopeKw)} kW)` : '')
          : PL.noData,
    },
    INCORRECT_ACTIVE_POWER_REGISTER: {
      label: 'Nieprawidłowa moc czynna',
      meaning: 'zgłaszana moc nie zgadza się z nachyleniem licznika energii, choć oba wskazują przepływ energii',
      causes: 'moc wysłana w W, ale oznaczona jako kW (lub odwrotnie), jedna faza zgłoszona jako suma albo zamrożona wartość mocy',
      checks: 'konfigurację jednostki i faz Power.Active.Import w stacji; porównać ręcznie jeden odczyt z licznikiem',
      data: (a, _f, n) =>
        a.power && a.registerSlopeKw !== null
          ? `moc wynosiła ${n(a.power.minKw)}–${n(a.power.maxKw)} kW (średnio ${n(a.power.meanKw)} kW), a nachylenie licznika ${n(a.registerSlopeKw)} kW`
          : PL.noData,
    },
    UNEXPECTED_CHARGE_LEVEL_CHANGES: {
      label: 'Nieoczekiwana zmiana stanu naładowania',
      meaning: 'stan naładowania zmienił się w sposób, którego dostarczona energia nie tłumaczy',
      causes: 'pojazd kalibrujący na nowo swoje oszacowanie SoC, wartość SoC innego pojazdu lub innej sesji albo błąd skali (ułamek wysłany jako procent)',
      checks: 'źródło SoC (pojazd przez ISO 15118 lub ładowarka), czy identyfikator sesji został użyty ponownie, oraz jednostkę SoC',
      data: (a, _f, n) =>
        a.soc
          ? `stan naładowania zmienił się z ${n(a.soc.startPercent)} % na ${n(a.soc.endPercent)} % (${signed(a.soc.changePoints, n)} pkt)` + (a.energy ? `, podczas gdy licznik zmienił się o ${n(a.energy.changeKwh, 3)} kWh` : '')
          : PL.noData,
    },
    CHARGING_EXPECTED: {
      label: 'Ładowanie przerwane mimo zapotrzebowania',
      meaning: 'ładowanie zatrzymało się lub utknęło, choć pojazd nadal potrzebował energii',
      causes: 'usterka lub wyłączenie ochronne ładowarki, zarządzanie obciążeniem, które obniżyło moc punktu do zera, utracone połączenie z backendem albo pojazd wstrzymany przez błąd',
      checks: 'dziennik stacji pod kątem usterek i komunikatów StatusNotification w chwili zatrzymania, ustawienia zarządzania obciążeniem oraz czy ładowanie zostało wznowione',
      data: (a, f, n) =>
        `ładowanie stało ${n(a.durationMinutes)} min` +
        (a.power ? ` (moc najwyżej ${n(a.power.maxKw)} kW` + (f.power ? ` przy szczycie sesji ${n(f.power.peakKw)} kW)` : ')') : '') +
        (a.soc ? `, stan naładowania ${n(a.soc.startPercent)} % w chwili zatrzymania` : ''),
    },
  },
};

const PHRASES: Record<OfflineLanguage, Phrases> = { en: EN, de: DE, nl: NL, fr: FR, pl: PL };

function signed(x: number, n: Num): string {
  return x > 0 ? `+${n(x)}` : n(x);
}

/** `2026-02-27 10:15 UTC` (seconds only when there are some): the same in every language. */
function when(ts: string | null): string {
  if (!ts) return '?';
  const d = new Date(ts).toISOString();
  const time = d.slice(11, 19).replace(/:00$/, '');
  return `${d.slice(0, 10)} ${time} UTC`;
}

function certaintyWord(p: Phrases, confidence: number): string {
  return p.certainty[confidence >= 0.85 ? 0 : confidence >= 0.6 ? 1 : confidence >= 0.4 ? 2 : 3];
}

/** The deterministic explanation of a session's verdict. */
export function offlineExplanation(f: SessionFacts, lang: OfflineLanguage, style: ExplanationStyle): string {
  const p = PHRASES[lang];
  const fmt = new Map<number, Intl.NumberFormat>();
  const n: Num = (x, digits = 2) => {
    let nf = fmt.get(digits);
    if (!nf) fmt.set(digits, (nf = new Intl.NumberFormat(lang, { maximumFractionDigits: digits, useGrouping: false })));
    return nf.format(x);
  };
  const pct = (x: number | null) => (x === null ? '?' : `${n(Math.round(x * 100), 0)} %`);
  const out: string[] = [p.label, ''];

  if (f.status === 'failed') {
    out.push(p.failed(f.sessionId, f.chargingStationId, f.message ?? ''));
    return out.join('\n');
  }

  const anomalies = f.anomalies;
  out.push(
    anomalies.length
      ? p.headlineAnomalies(anomalies.length, f.sessionId, f.chargingStationId, n(f.anomalyScore ?? 0, 3), pct(f.anomalyConfidence))
      : p.headlineNormal(f.sessionId, f.chargingStationId, pct(f.anomalyConfidence)),
  );

  if (style === 'brief') {
    for (const a of anomalies) {
      const c = p.categories[a.category];
      out.push(`- ${c.label}: ${when(a.timeRange.startTimestamp)} – ${when(a.timeRange.endTimestamp)}; ${certaintyWord(p, a.confidence)} (${pct(a.confidence)}).`);
    }
    if (!anomalies.length) out.push(p.normalAdvice);
    return out.join('\n');
  }

  const overview: string[] = [];
  if (f.firstReadingAt && f.lastReadingAt) overview.push(p.readings(f.readingCount, when(f.firstReadingAt), when(f.lastReadingAt), n(f.durationMinutes ?? 0, 1)));
  if (f.energy) overview.push(p.delivered(n(f.energy.deliveredKwh, 3)));
  if (f.power) overview.push(p.peak(n(f.power.peakKw)));
  if (f.soc) overview.push(p.soc(n(f.soc.startPercent), n(f.soc.endPercent)));
  if (f.truncated) overview.push(p.truncated);
  if (overview.length) out.push(overview.join(' '));

  anomalies.forEach((a, i) => {
    const c = p.categories[a.category];
    out.push('');
    out.push(`${i + 1}. ${c.label} (${a.category}): ${c.meaning}.`);
    const where = p.where(when(a.timeRange.startTimestamp), when(a.timeRange.endTimestamp), n(a.durationMinutes, 1));
    out.push(`   ${where}${style === 'technical' ? `; ${p.buckets(a.bucketRange.startUnit, a.bucketRange.endUnit)}` : ''}.`);
    out.push(`   ${p.showHeading}: ${c.data(a, f, n)}.`);
    out.push(`   ${p.sure(certaintyWord(p, a.confidence), pct(a.confidence), n(a.score, 3))}`);
    out.push(`   ${p.causesHeading}: ${c.causes}.`);
    out.push(`   ${p.checkHeading}: ${c.checks}.`);
    if (style === 'technical') {
      const rule = categoryContract(a.category);
      out.push(`   ${p.ruleHeading}: ${rule.ruleOfThumb}`);
    }
  });
  if (!anomalies.length) out.push(p.normalAdvice);
  if (f.dataQualityNotes.length) out.push('', `${p.qualityHeading}: ${f.dataQualityNotes.join('; ')}`);
  if (style === 'technical' && f.detector) out.push('', p.detector(f.detector));
  return out.join('\n');
}
