// The official JavaScript client (@influxdata/influxdb-client 1.35) against the reference:
// onboard with SetupAPI, write with WriteApi, read rows with QueryApi, delete with DeleteAPI.
// Every check asserts values and prints one line.
import { InfluxDB, Point, HttpError, setLogger } from '@influxdata/influxdb-client'
import { SetupAPI, DeleteAPI, BucketsAPI, OrgsAPI } from '@influxdata/influxdb-client-apis'

const url = process.argv[2]
let checks = 0
function check(name, cond, detail = '') {
  if (!cond) {
    console.log(`FAIL ${name}: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`)
    process.exit(1)
  }
  checks++
  console.log(`ok   ${name}`)
}

const anon = new InfluxDB({ url })
const setup = new SetupAPI(anon)
check('setup allowed before onboarding', (await setup.getSetup()).allowed === true)
const onboarded = await setup.postSetup({
  body: { org: 'js-org', bucket: 'js-bucket', username: 'js-user', password: 'js-password', token: 'js-token' },
})
check('setup returns the preset token', onboarded.auth.token === 'js-token', onboarded.auth)

const influx = new InfluxDB({ url, token: 'js-token' })
const orgID = (await new OrgsAPI(influx).getOrgs({ org: 'js-org' })).orgs[0].id
await new BucketsAPI(influx).postBuckets({ body: { orgID, name: 'js', retentionRules: [] } })

const writeApi = influx.getWriteApi('js-org', 'js', 'ms', { maxRetries: 0 })
writeApi.writePoint(new Point('weather').tag('station', 'north pole').floatField('temp', -30.5).intField('n', 7).stringField('note', 'cold, "very"').booleanField('ok', true).timestamp(1704067200000))
writeApi.writePoint(new Point('weather').tag('station', 'south').floatField('temp', 1.25).timestamp(1704067260000))
await writeApi.close()

const queryApi = influx.getQueryApi('js-org')
const flux = 'from(bucket: "js") |> range(start: 2024-01-01T00:00:00Z, stop: 2024-01-02T00:00:00Z)'
const rows = await queryApi.collectRows(flux)
const byKey = Object.fromEntries(rows.map((r) => [`${r.station}/${r._field}`, r._value]))
check('every field type reads back', byKey['north pole/temp'] === -30.5 && byKey['north pole/n'] === 7 && byKey['north pole/note'] === 'cold, "very"' && byKey['north pole/ok'] === true && byKey['south/temp'] === 1.25, byKey)
check('times in RFC3339', rows.some((r) => r._time === '2024-01-01T00:00:00Z'), rows.map((r) => r._time))

await new DeleteAPI(influx).postDelete({
  org: 'js-org',
  bucket: 'js',
  body: { start: '2024-01-01T00:00:00Z', stop: '2024-01-01T00:00:30Z', predicate: 'station="north pole"' },
})
const after = await queryApi.collectRows(flux)
check('delete removed the matching series only', after.length === 1 && after[0].station === 'south', after)

// The client logs failed writes itself; this one is expected, so keep the output to our lines.
setLogger({ error: () => {}, warn: () => {} })
const failing = influx.getWriteApi('js-org', 'js', 'ms', { maxRetries: 0 })
failing.writeRecord('weather,station=south temp=1i 1704067260000')
try {
  await failing.close()
  check('type conflict rejects', false, 'no error')
} catch (e) {
  check('type conflict is 422 with InfluxDB body', e instanceof HttpError && e.statusCode === 422 && e.body.includes('field type conflict'), `${e}`)
}

console.log(`javascript influxdb-client: ${checks} passed, 0 failed`)
